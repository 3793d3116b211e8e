#pragma once
/**
 * @file index_coder.hpp
 * Exact, decodable codes for a set of distinct indices S ⊂ {0..n−1} (the support of a sparse
 * vector: Top-K uplink, a sparse aggregate's downlink).
 *
 * Layout, written with BitWriter's bit order (bit_writer.hpp):
 * 1. Elias-gamma(|S| + 1), the count (γ(1) = one bit for the empty set);
 * 2. the |S| gaps in increasing index order, gap_j = s_j − s_{j−1} with s_{−1} = −1, so every
 *    gap is >= 1 and Σ gap_j = s_last + 1 <= n:
 *    - IndexCode::kGamma: Elias-gamma(gap_j) each, length 2·floor(log2 gap_j) + 1;
 *    - IndexCode::kRice: a Golomb–Rice code with parameter b = floor(log2(floor(n/|S|))), a
 *      function of (n, |S|) that the decoder knows after step 1, so b costs no bits: the
 *      quotient q = (gap_j − 1) >> b as q zero bits and a one bit, then the b low bits of
 *      gap_j − 1. For gaps that are roughly geometric with mean n/|S| this is within a few
 *      hundredths of a bit per index of the ideal log2 C(n, |S|)/|S| (docs/quantizers.md#topk).
 *
 * The decoder rejects with FormatError: a count above the caller's maximum, a gap that runs past
 * n, and (Rice) a quotient longer than any gap in {1..n} can need.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

/** How the gaps between consecutive indices are coded (the count is always Elias-gamma). */
enum class IndexCode { kGamma, kRice };

/** The Rice parameter used for @p count indices out of @p n (0 when count is 0 or > n/2). */
int RiceParameter(std::uint64_t n, std::uint64_t count);

/**
 * Writes the count and the gaps of @p sorted (strictly increasing, all < n).
 * @param n the size of the index universe.
 */
void PutIndexSet(BitWriter& w, const std::vector<std::size_t>& sorted, std::uint64_t n,
                 IndexCode code);

/**
 * Reads an index set written by PutIndexSet for the same @p n and @p code.
 * @param maxCount the largest count the caller accepts.
 * @return the indices, strictly increasing, all < n.
 * @throws FormatError on a truncated or inconsistent stream.
 */
std::vector<std::size_t> GetIndexSet(BitReader& r, std::uint64_t n, std::uint64_t maxCount,
                                     IndexCode code);

/** The exact length in bits of PutIndexSet(sorted, n, code), computed without writing. */
std::uint64_t IndexSetBits(const std::vector<std::size_t>& sorted, std::uint64_t n, IndexCode code);

/** The ideal cost of a k-subset of n items, log2 C(n, k), via lgamma (not a realizable code). */
double IdealIndexBits(std::uint64_t n, std::uint64_t k);

/** The naive cost, k·ceil(log2 n): every index in a fixed-width field. */
std::uint64_t NaiveIndexBits(std::uint64_t n, std::uint64_t k);

}  // namespace gradquant
