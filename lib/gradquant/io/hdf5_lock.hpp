#pragma once
/**
 * @file hdf5_lock.hpp
 * The one lock around gradquant's HDF5 calls. Debian's HDF5 serialises its calls itself, but
 * its C++ objects are not safe to share between threads, so every reader and writer here is used
 * under this lock. Dump::ReadSlab takes it on its own, and only to find where a slab's bytes
 * lie; code that writes output files from several threads holds it around each write.
 */
#include <mutex>

namespace gradquant {

/** The process-wide HDF5 lock. */
std::mutex& Hdf5Lock();

}  // namespace gradquant
