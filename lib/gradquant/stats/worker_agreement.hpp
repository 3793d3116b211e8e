#pragma once
/**
 * @file worker_agreement.hpp
 * Agreement between workers beyond correlation (docs/cli.md#columns-of-the-gradients-table): sign
 * agreement with the mean, which drives the error of majority votes, and the overlap of the
 * workers' Top-K sets, which drives sparsified methods (S3GD-MV, Top-K).
 *
 * Sign agreement: with sign(x) = +1 for x >= 0 and −1 otherwise (docs/quantizers.md#signs, the
 * 1-bit alphabet) and ḡ the mean of the W workers, the raw rate is the fraction of (worker,
 * coordinate) pairs with sign(g_wi) = sign(ḡ_i); the weighted rate weighs coordinate i by |ḡ_i|:
 * \f[ \frac{\sum_{w,i} |\bar g_i|\,[\mathrm{sign}(g_{wi}) = \mathrm{sign}(\bar g_i)]}
 *          {W \sum_i |\bar g_i|} . \f]
 *
 * Top-K overlap: S_w = the K coordinates of largest |g_wi| (ties broken towards the lower index),
 * K = max(1, ceil(n/100)) (1 % of the slab, at least one coordinate); the report gives the mean
 * over the W(W−1)/2 worker pairs of the Jaccard index |S_a ∩ S_b| / |S_a ∪ S_b|.
 */
#include <armadillo>
#include <cstddef>
#include <vector>

namespace gradquant {

/** Counts behind the sign-agreement rates; mergeable by adding. */
struct SignAgreement {
  double agree = 0;          ///< (worker, coordinate) pairs whose sign matches the mean's
  double pairs = 0;          ///< (worker, coordinate) pairs counted
  double weightedAgree = 0;  ///< Σ |ḡ_i| over agreeing pairs
  double weight = 0;         ///< Σ |ḡ_i| over all pairs

  /** Counts for one slab group (W workers, equal lengths). */
  static SignAgreement Of(const std::vector<arma::fvec>& slabs);
  /** Adds @p other's counts. */
  void Merge(const SignAgreement& other);
  /** agree / pairs (NaN if empty). */
  double Raw() const;
  /** weightedAgree / weight (NaN if the mean is all zero). */
  double Weighted() const;
};

/** K of the Top-K overlap for a slab of @p n coordinates: max(1, ceil(n/100)); 0 if n = 0. */
std::size_t TopKCount(std::size_t n);

/** The K coordinates of largest |g_i| (ties: lower index first), sorted by index. */
std::vector<std::size_t> LargestMagnitudes(const arma::fvec& g, std::size_t k);

/** Mean Jaccard index of the workers' Top-K sets over worker pairs; NaN if W < 2 or K = 0. */
double TopKJaccard(const std::vector<arma::fvec>& slabs, std::size_t k);

}  // namespace gradquant
