#pragma once
/**
 * @file partial_shuffle.hpp
 * K distinct indices drawn uniformly without replacement from {0..n−1} by the partial
 * Fisher–Yates shuffle of docs/quantizers.md#shared-randomness: starting from idx = (0, 1, ...,
 * n−1), for j = 0..K−1 draw t = j + floor(U_j·(n − j)) with U_j = rng.Uniform(j), swap idx[j] and
 * idx[t]; the sample is idx[0..K−1] in draw order.
 *
 * Only the displaced positions are stored (an open-addressing hash table), so time and memory
 * are O(K) rather than O(n), and the output is identical to the dense shuffle's.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/random/rng.hpp"

namespace gradquant {

/**
 * The first @p k entries of the partial Fisher–Yates shuffle of {0..n−1} driven by @p rng
 * (k <= n), in draw order. Every k-subset is equally likely, and every index is included with
 * probability k/n.
 */
std::vector<std::size_t> PartialShuffle(const Rng& rng, std::size_t n, std::size_t k);

}  // namespace gradquant
