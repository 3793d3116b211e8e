#pragma once
/**
 * @file index_set.hpp
 * A self-delimiting code for a set of coordinate indices S ⊆ {0..n−1} (sparse signs, Top-K,
 * a majority vote's support), with Elias-gamma gaps (codes.hpp).
 *
 * Bit layout: γ(|S| + 1), then for each index in increasing order γ(gap), where the first gap
 * is the 1-based position i_0 + 1 and later gaps are i_j − i_{j−1} (≥ 1). Length:
 * \f$γ(|S|+1) + \sum_j γ(\mathrm{gap}_j)\f$, with γ(m) = 2⌊log2 m⌋ + 1. The empty set costs one
 * bit. Decoding rejects a count above n and any index at or beyond n, so a corrupt stream can
 * never yield an index outside the tensor; strictly increasing order holds by construction
 * (every gap is ≥ 1).
 */
#include <cstdint>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

/**
 * Writes the index set @p indices of a tensor of @p n coordinates.
 * @param indices strictly increasing, each < n.
 * @throws std::invalid_argument if @p indices is not strictly increasing inside [0, n).
 */
void PutIndexSet(BitWriter& w, const std::vector<std::uint64_t>& indices, std::uint64_t n);

/**
 * Reads an index set written by PutIndexSet for a tensor of @p n coordinates.
 * @return the indices, strictly increasing, each < n.
 * @throws FormatError if the stream ends early, the count exceeds n or an index reaches n.
 */
std::vector<std::uint64_t> GetIndexSet(BitReader& r, std::uint64_t n);

/** Exact length in bits of PutIndexSet(@p indices) (indices strictly increasing). */
std::uint64_t IndexSetBits(const std::vector<std::uint64_t>& indices);

}  // namespace gradquant
