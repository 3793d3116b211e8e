#pragma once
/**
 * @file dump.hpp
 * Reading gradient dumps (docs/format.md, version 1). Opening validates the whole layout of every
 * file and throws IoError naming the file, the object and the problem; reading streams one
 * (layer, record, worker) slab at a time and never loads a whole dataset.
 */
#include <armadillo>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"

namespace gradquant {

/** What ReadSlab does with a NaN or Inf gradient value (`--nonfinite`). */
enum class NonfinitePolicy {
  kReject,  ///< throw IoError naming file, layer, record, worker and index (the default)
  kZero,    ///< replace the value by 0 and count it (see Dump::Zeroed)
};

/** "reject" or "zero". */
const char* NonfiniteName(NonfinitePolicy policy);

/** Values zeroed under NonfinitePolicy::kZero, and where the first one was. */
struct NonfiniteCount {
  std::uint64_t count = 0;
  std::string first;  ///< e.g. "g.h5: /gradients/fc1.weight record 2, worker 1, index 5 (NaN)"
};

/** How the slabs read so far were read (Dump::ReadCounts). */
struct SlabReadCounts {
  std::uint64_t direct = 0;   ///< by gradquant's own reader, outside the HDF5 lock
  std::uint64_t library = 0;  ///< through H5Dread (other types and layouts, or a fallback)
};

/** One input file of a dump. */
struct DumpFile {
  std::string path;
  std::size_t workers = 0;                        ///< W of this file
  std::size_t firstWorker = 0;                    ///< its first worker's global index
  std::map<std::string, std::string> attributes;  ///< root attributes as text
};

/** Several files read as one dump whose workers are the files' workers in order. */
class Dump {
 public:
  /**
   * Opens and validates @p paths as one dump.
   * @param nonfinite what ReadSlab does with NaN and Inf values.
   * @throws IoError naming the file, object and problem for anything that breaks the format.
   */
  static Dump Open(const std::vector<std::string>& paths,
                   NonfinitePolicy nonfinite = NonfinitePolicy::kReject);

  Dump(Dump&&) noexcept;
  Dump& operator=(Dump&&) noexcept;
  ~Dump();

  /** Training iteration of each record. */
  const std::vector<std::int64_t>& Steps() const;
  /** Number of records S. */
  std::size_t Records() const { return Steps().size(); }
  /** Total workers W over all files. */
  std::size_t Workers() const;
  /** Parameters in model order. */
  const std::vector<LayerInfo>& Layers() const;
  /** The input files. */
  const std::vector<DumpFile>& Files() const;

  /**
   * Reads the slab of layer @p layer (position in Layers()), record @p record, global worker
   * @p worker, converted to float32. NaN and Inf values are rejected or zeroed per the policy.
   * Safe to call from several threads: float32 slabs stored contiguously or in chunks with
   * shuffle, deflate and Fletcher-32 are read and inflated outside the HDF5 lock (hdf5_lock.hpp);
   * anything else, and any chunk that fails there, goes through H5Dread under the lock.
   * @param zeroed if not null, receives the number of values zeroed in this slab.
   * @throws IoError on a read failure or, under kReject, a NaN/Inf value (naming the file,
   *         layer, record, worker and index).
   */
  arma::fvec ReadSlab(std::size_t layer, std::size_t record, std::size_t worker,
                      std::uint64_t* zeroed = nullptr) const;

  /** The policy given to Open. */
  NonfinitePolicy Nonfinite() const;
  /**
   * Values zeroed by the ReadSlab calls so far, each slab counted once however often it was
   * read (always 0 under kReject); the first in dump order.
   */
  NonfiniteCount Zeroed() const;
  /** How the slabs read so far were read. */
  SlabReadCounts ReadCounts() const;

 private:
  struct Impl;
  explicit Dump(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gradquant
