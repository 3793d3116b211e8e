#pragma once
/**
 * @file chunk_filters.hpp
 * HDF5's shuffle, deflate and Fletcher-32 filters on the read side, done by gradquant so that
 * stored chunks can be decoded outside the HDF5 library's lock, on several threads at once
 * (HDF5 1.10 runs every filter inside H5Dread, under its one global lock).
 */
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gradquant::detail {

/** The filters gradquant decodes itself (HDF5's filter ids). */
enum class ChunkFilter : int { kDeflate = 1, kShuffle = 2, kFletcher32 = 3 };

/**
 * HDF5's Fletcher-32 checksum of @p bytes: sums of the big-endian 16-bit words (a trailing odd
 * byte is the high byte of a last word), each sum folded to 16 bits, second sum high.
 */
std::uint32_t Fletcher32(const std::uint8_t* bytes, std::size_t size);

/**
 * Undoes @p pipeline (in the order HDF5 applied it when writing) on the stored chunk
 * @p stored, leaving the chunk's raw bytes in @p raw.
 * @param rawSize the chunk's size before any filter (its element count times 4).
 * @return false when a stage fails (a checksum that does not match, a deflate stream that is
 *         corrupt or does not inflate to the expected size); the caller then reads the chunk
 *         through HDF5, which reports the problem in its own words.
 */
bool UndoFilters(const std::vector<ChunkFilter>& pipeline, std::vector<std::uint8_t>& stored,
                 std::size_t rawSize, std::vector<std::uint8_t>& raw);

}  // namespace gradquant::detail
