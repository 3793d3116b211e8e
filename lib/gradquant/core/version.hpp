#pragma once
/** @file version.hpp The gradquant version string, set by CMake from project(VERSION). */

namespace gradquant {

/** Version of this build, echoed in every report. */
inline constexpr const char* kVersion = GRADQUANT_VERSION;

/**
 * Version of the stored-message layout in compressed files; bumped on any wire change.
 * 2: checksums bind each message to its spec, seed, layer, step and worker (message_store.hpp).
 * 3: checksums also bind the parameter's shape and the worker count W.
 */
inline constexpr int kMessageFormatVersion = 3;

}  // namespace gradquant
