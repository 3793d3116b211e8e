#pragma once
/** @file version.hpp The gradquant version string, set by CMake from project(VERSION). */

namespace gradquant {

/** Version of this build, echoed in every report. */
inline constexpr const char* kVersion = GRADQUANT_VERSION;

/**
 * Version of the stored-message layout in compressed files; bumped on any wire change.
 * 2: checksums bind each message to its spec, seed, layer, step and worker (message_store.hpp).
 */
inline constexpr int kMessageFormatVersion = 2;

}  // namespace gradquant
