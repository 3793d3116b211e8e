#pragma once
/**
 * @file top_k_select.hpp
 * Top-K index selection (docs/quantizers.md#topk): the K largest |g_i|, ties broken by lower index,
 * as one total order, so the selected set is unique.
 *
 * Zero entries are never selected: selecting them would cost index and value bits for nothing,
 * so fewer than K indices come back when g has fewer than K nonzeros (as S3GD-MV's min(K, nnz),
 * docs/quantizers.md#s3gdmv). The error is the same as if zeros had been sent.
 */
#include <cstddef>
#include <vector>

namespace gradquant {

/**
 * Indices of the min(k, nnz(g)) nonzero entries of largest magnitude, ties by lower index,
 * returned in increasing index order. Uses std::nth_element on the nonzeros (expected O(n)),
 * then sorts only the selected indices (O(K log K)). NaN entries are not allowed.
 * @param g the slab, @p n values.
 */
std::vector<std::size_t> TopKIndices(const float* g, std::size_t n, std::size_t k);

}  // namespace gradquant
