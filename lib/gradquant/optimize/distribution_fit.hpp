#pragma once
/**
 * @file distribution_fit.hpp
 * The zero-mean fits behind the threshold report (ALGORITHMS.md §3.2, §9): the Laplace MLE
 * γ̂ = mean |g|, the Gaussian MLE σ̂ = sqrt(mean g²), and the Kolmogorov–Smirnov distance of the
 * sample to each fitted law, D = sup_x |F_n(x) − F(x)|.
 */
#include <algorithm>
#include <armadillo>
#include <vector>

namespace gradquant {

/** A fit of one sample (all values of a record's workers pooled). */
struct DistributionFit {
  std::size_t n = 0;      ///< sample size
  double gamma = 0;       ///< Laplace scale MLE, mean |g|
  double sigma = 0;       ///< zero-mean Gaussian MLE, sqrt(mean g²)
  double meanSquare = 0;  ///< mean g², the normaliser of per-coordinate errors
  double ksLaplace = 0;   ///< KS distance to Laplace(0, γ̂) (NaN if γ̂ = 0)
  double ksGauss = 0;     ///< KS distance to N(0, σ̂²) (NaN if σ̂ = 0)
};

/** Fits the pooled values of @p slabs. An empty or all-zero sample gives NaN KS distances. */
DistributionFit FitDistribution(const std::vector<arma::fvec>& slabs);

/** The pooled values of @p slabs in double, sorted increasingly. */
std::vector<double> SortedValues(const std::vector<arma::fvec>& slabs);

/** F(x) of Laplace(0, γ). */
double LaplaceCdf(double x, double gamma);

/** F(x) of N(0, σ²). */
double GaussCdf(double x, double sigma);

/** sup |F_n − F| of a sorted sample against the CDF @p cdf. */
template <class Cdf>
double KsDistance(const std::vector<double>& sorted, Cdf cdf) {
  const double n = static_cast<double>(sorted.size());
  double d = 0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const double f = cdf(sorted[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return d;
}

}  // namespace gradquant
