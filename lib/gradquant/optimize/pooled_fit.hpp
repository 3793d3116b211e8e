#pragma once
/**
 * @file pooled_fit.hpp
 * The fits behind the threshold report (docs/quantizers.md#tnq, docs/cli.md#the-thresholds-table):
 * one record's workers pooled, fitted by stats/distribution_fit (Laplace γ̂ = mean |g|, Gaussian σ̂
 * = sqrt(mean g²), KS distances), with the sample size and mean g², the normaliser of
 * per-coordinate errors.
 */
#include <armadillo>
#include <cstddef>
#include <vector>

namespace gradquant {

/** A fit of one pooled sample; NaN fields for an empty sample, NaN KS for an all-zero one. */
struct PooledFit {
  std::size_t n = 0;      ///< sample size
  double gamma = 0;       ///< Laplace scale MLE, mean |g|
  double sigma = 0;       ///< zero-mean Gaussian MLE, sqrt(mean g²)
  double meanSquare = 0;  ///< mean g²
  double ksLaplace = 0;   ///< KS distance to Laplace(0, γ̂)
  double ksGauss = 0;     ///< KS distance to N(0, σ̂²)
};

/** Fits the pooled values of @p slabs. */
PooledFit FitPooled(const std::vector<arma::fvec>& slabs);

}  // namespace gradquant
