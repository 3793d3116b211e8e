#pragma once
/**
 * @file gradiveq_basis.hpp
 * The geometry of GradiVeQ (docs/quantizers.md#gradiveq): how a layer is flattened and cut into
 * slices of K entries, and how the PCA basis U_d and the mean μ are fitted to slice samples.
 *
 * M. Yu, Z. Lin, K. Narra, S. Li, Y. Li, N. S. Kim, A. Schwing, M. Annavaram, S. Avestimehr,
 * "GradiVeQ: Vector Quantization for Bandwidth-Efficient Gradient Aggregation in Distributed CNN
 * Training", NeurIPS 2018 (arXiv:1811.03617).
 *
 * Flattening: a 4-D conv weight in PyTorch layout (F, D, H, W) is permuted to (H, W, D, F) and
 * read row-major, so the F filters' entries at one (h, w, depth) sit next to each other:
 * element (f, dep, h, w) goes to position ((h·W + w)·D + dep)·F + f. Other tensors keep their
 * row-major order. The flat vector is cut into M = ⌈n/K⌉ consecutive slices, the last one padded
 * with zeros; as a K×M matrix (column-major) column m is slice m.
 */
#include <armadillo>
#include <cstddef>
#include <cstdint>

#include "gradquant/core/layer_info.hpp"

namespace gradquant {

/** How one layer is sliced, and whether GradiVeQ compresses it at all. */
struct SliceLayout {
  bool compress = false;     ///< eligible, K >= 2 and at least 2 slices
  bool conv = false;         ///< 4-D weight: the (H, W, D, F) order applies
  std::uint64_t k = 0;       ///< slice size K
  std::uint64_t slices = 0;  ///< M = ceil(n / K)
};

/**
 * The slicing of @p layer.
 * @param k the slice size, or 0 for auto: F·D (filters × input channels, the paper's advice) for
 *   a 4-D weight, the last dimension for other tensors of rank >= 2, and n (one slice, so not
 *   compressed) for vectors.
 * @param allLayers false: only 4-D weights are eligible (the paper compresses conv layers only).
 */
SliceLayout PlanSlices(const LayerInfo& layer, std::uint64_t k, bool allLayers);

/** The K×M slice matrix of slab @p g (n values, the layer's own layout), zero-padded. */
arma::mat ToSlices(const float* g, const LayerInfo& layer, const SliceLayout& layout);

/** The inverse of ToSlices: writes the n real entries of @p x back in the layer's layout. */
void FromSlices(const arma::mat& x, const LayerInfo& layer, const SliceLayout& layout, float* out);

/**
 * Eq. (6) with the floating-point rule of docs/quantizers.md#gradiveq: eigenvalues <= 1e-12·s[0]
 * count as 0, c_d is the running sum in order, T = c_last, and d = min{d >= 1 : c_d >= (1 − λ)T}.
 * @param eigen the covariance eigenvalues in descending order (not empty).
 * @param retained where to store c_d / T (1 if T = 0); may be null.
 */
std::size_t ChooseDimension(const arma::vec& eigen, double lambda, double* retained);

/** A fitted PCA compressor: orthonormal U (K×d), mean μ (K), the spectrum and d. */
struct PcaBasis {
  bool ok = false;  ///< false if the SVD failed (e.g. non-finite samples)
  arma::mat u;      ///< K×d, orthonormal columns
  arma::vec mu;     ///< K, the sample mean
  arma::vec eigen;  ///< squared singular values of the centered samples, descending
  std::size_t d = 0;
  double retained = 1.0;  ///< fraction of the centered sample energy in the first d directions
};

/**
 * Fits μ = mean of the columns of @p samples (K×L, one sample per column, L >= 2) and U_d from
 * the thin SVD of the centered samples (in double), with d from ChooseDimension.
 */
PcaBasis FitBasis(const arma::mat& samples, double lambda);

}  // namespace gradquant
