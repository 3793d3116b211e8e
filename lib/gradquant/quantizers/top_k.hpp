#pragma once
/**
 * @file top_k.hpp
 * Coordinate selection rules shared by the sparsifying methods (S3GD-MV, Top-K, Random-K).
 *
 * - Top-K (ALGORITHMS.md §6.6, §5.1): the k coordinates of largest |g_i|, ties broken by the
 *   lower index [ASSUME], found with std::nth_element (O(n) on average, no full sort).
 * - Random-K (§0.3): the partial Fisher–Yates shuffle of the index list 0..n−1 driven by the
 *   shared stream: for j < k, t = j + ⌊U(j)·(n − j)⌋, swap idx[j] and idx[t]; the first k entries
 *   are the chosen set. Encoder and decoder regenerate the same set from the seed.
 *
 * Both return the chosen indices sorted in increasing order.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/random/rng.hpp"

namespace gradquant {

/**
 * Indices of the min(k, n) entries of largest magnitude |g_i|, ties by lower index, sorted
 * increasingly. NaN entries rank below every number (they are chosen only when k exceeds the
 * count of non-NaN entries). Zeros are ordinary entries here: callers that must skip zeros
 * pass k ≤ the count of nonzero entries (see CountNonzero).
 */
std::vector<std::uint64_t> TopKIndices(const float* g, std::size_t n, std::size_t k);

/** Number of entries with |g_i| > 0 (NaN is not counted). */
std::size_t CountNonzero(const float* g, std::size_t n);

/**
 * The min(k, n) indices of the §0.3 partial Fisher–Yates shuffle driven by @p rng
 * (Uniform(j) for step j), sorted increasingly.
 */
std::vector<std::uint64_t> RandomKIndices(const Rng& rng, std::size_t n, std::size_t k);

}  // namespace gradquant
