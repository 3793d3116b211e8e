#pragma once
/**
 * @file direct_read.hpp
 * Internal to io/: reading a float32 slab of a gradient dataset without HDF5's data path.
 *
 * HDF5 1.10 (Debian 12) serialises every call behind one global lock, and H5Dread copies the
 * bytes and runs the filters (inflation) inside it, so several threads reading slabs take turns.
 * Here only the lookup of where the slab's bytes lie (PlanSlab, a few B-tree lookups) runs under
 * the lock; the file reads (pread) and the filters (chunk_filters.hpp) run outside it, side by
 * side. Any layout, type or chunk this cannot handle goes through H5Dread as before, and so does
 * a chunk that fails to read or decode, so HDF5 reports the problem in its own words: the values
 * returned never differ from H5Dread's.
 */
#include <array>
#include <cstdint>
#include <vector>

#include "gradquant/io/chunk_filters.hpp"
#include "gradquant/io/h5_detail.hpp"

namespace gradquant::detail {

/** Where a dataset's values lie in its file, when gradquant can read them itself. */
struct DirectLayout {
  bool usable = false;  ///< little-endian float32, contiguous or chunked, known filters
  bool chunked = false;
  std::uint64_t address = 0;  ///< contiguous: file offset of the first value
  std::uint64_t base = 0;     ///< added to chunk addresses (the user block's size)
  std::array<std::uint64_t, 3> dims{}, chunk{};  ///< extent [S, W, N]; chunk extent
  std::vector<ChunkFilter> pipeline;  ///< filters in the order they were applied on writing
};

/** Inspects @p ds of @p file; the caller holds the HDF5 lock. */
DirectLayout DescribeLayout(const H5::H5File& file, const H5::DataSet& ds);

/** Stored bytes that yield values [first, first + count) of a slab. */
struct DirectPiece {
  std::uint64_t offset = 0;            ///< file offset of the stored bytes
  std::uint64_t bytes = 0;             ///< stored size (after the filters)
  std::uint64_t first = 0, count = 0;  ///< the slab values it yields
  std::uint64_t skip = 0;              ///< values before them in the decoded bytes
};

/**
 * Lists the pieces of slab (@p record, @p worker) of a usable layout; the caller holds the HDF5
 * lock. @return false when a chunk is not allocated or had a filter skipped on writing (read
 * the slab through HDF5 then).
 */
bool PlanSlab(const H5::DataSet& ds, const DirectLayout& layout, std::uint64_t record,
              std::uint64_t worker, std::vector<DirectPiece>* pieces);

/**
 * Reads and decodes @p pieces from the open file @p fd into @p out (the slab's N values),
 * without any lock; pieces are spread over free OpenMP threads.
 * @return false when a read comes up short or a chunk does not decode.
 */
bool ReadPieces(int fd, const DirectLayout& layout, const std::vector<DirectPiece>& pieces,
                float* out);

}  // namespace gradquant::detail
