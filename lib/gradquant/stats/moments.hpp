#pragma once
/**
 * @file moments.hpp
 * Moments of a pool of values (every coordinate of every worker of a slab, or of several slabs
 * together), mergeable without revisiting the data.
 *
 * Central sums are merged with the pairwise update of Chan, Golub & LeVeque (1979) extended to
 * the third and fourth moments by Pébay (2008, "Formulas for robust, one-pass parallel
 * computation of covariances and arbitrary-order statistical moments", Sandia SAND2008-6212):
 * with δ = mean_b − mean_a and n = n_a + n_b,
 * M2 = M2a + M2b + δ² n_a n_b / n,
 * M3 = M3a + M3b + δ³ n_a n_b (n_a − n_b)/n² + 3δ (n_a M2b − n_b M2a)/n,
 * M4 = M4a + M4b + δ⁴ n_a n_b (n_a² − n_a n_b + n_b²)/n³ + 6δ² (n_a² M2b + n_b² M2a)/n²
 *      + 4δ (n_a M3b − n_b M3a)/n.
 */
#include <cstddef>

namespace gradquant {

/** Count, mean, central sums M2..M4, and the zero-location sums Σ|x|, Σx², max|x|. */
struct Moments {
  double count = 0;
  double mean = 0;
  double m2 = 0;  ///< Σ (x − mean)²
  double m3 = 0;  ///< Σ (x − mean)³
  double m4 = 0;  ///< Σ (x − mean)⁴
  double sumAbs = 0;
  double sumSq = 0;
  double maxAbs = 0;

  /** The moments of x[0..n) (two passes, double precision). */
  static Moments Of(const float* x, std::size_t n);

  /** Pools @p other into this (the moments of the concatenation). */
  void Merge(const Moments& other);

  /** Excess kurtosis n·M4/M2² − 3 (0 for a Gaussian, 3 for a Laplace); NaN if M2 = 0. */
  double ExcessKurtosis() const;

  /** Maximum-likelihood scale of a zero-location Laplace law: mean |x|. NaN if empty. */
  double LaplaceScale() const;

  /** Maximum-likelihood σ of a zero-mean Gaussian: sqrt(mean x²). NaN if empty. */
  double GaussSigma() const;
};

}  // namespace gradquant
