#pragma once
/**
 * @file distribution_fit.hpp
 * Zero-location Laplace and Gaussian fits of a pool of gradient values and their
 * Kolmogorov–Smirnov distances (docs/quantizers.md#tnq: TNQ assumes Laplace(0, γ) gradients; the KS
 * distance says how far the data is from that model, and from the Gaussian alternative).
 *
 * Fits (maximum likelihood with the location fixed at 0, as the quantizer models assume):
 * Laplace scale b = mean |x|, Gaussian σ = sqrt(mean x²). KS distance of the empirical CDF F_n
 * of N sorted values x_(1) <= ... <= x_(N) against a continuous CDF F:
 * \f[ D = \max_i \max\big(F(x_{(i)}) - (i-1)/N,\; i/N - F(x_{(i)})\big), \f]
 * which is exact with ties too (a run of equal values is covered by its first and last index).
 */
#include <vector>

namespace gradquant {

/** CDF of Laplace(0, b) at x; a step at 0 if b = 0. */
double LaplaceCdf(double x, double scale);

/** CDF of N(0, σ²) at x; a step at 0 if σ = 0. */
double GaussCdf(double x, double sigma);

/** What FitZeroLocation returns; NaN fields for an empty pool or an all-zero one (for KS). */
struct DistributionFit {
  double laplaceScale;
  double gaussSigma;
  double ksLaplace;  ///< KS distance of the data to Laplace(0, laplaceScale)
  double ksGauss;    ///< KS distance of the data to N(0, gaussSigma²)
};

/**
 * Fits both laws to @p values (sorted in place) and measures both KS distances; sums and CDFs
 * are taken in double.
 */
DistributionFit FitZeroLocation(std::vector<float>& values);

}  // namespace gradquant
