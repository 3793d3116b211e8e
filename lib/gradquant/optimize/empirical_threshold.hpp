#pragma once
/**
 * @file empirical_threshold.hpp
 * The threshold condition of TNQ (docs/quantizers.md#tnq) solved for the empirical distribution of
 * a slab instead of a fitted law:
 * \f[ 2\int_α^∞ (g − α)p(g)\,dg = \frac{3}{4s^2} C(α)^2 p(α)^{1/3},\quad
 *     C(α) = \int_{−α}^{α} p^{1/3}. \f]
 * The left side is computed exactly from the sample: 2∫_α^∞(g − α)p = mean (|g_i| − α)_+.
 * The right side needs a density. Gradients are heavy-tailed and sharply peaked at 0, so one
 * bandwidth for g cannot serve both the bulk (where the kernel must be narrow) and the tail
 * where α* falls (where data are sparse): a plain kernel estimate is a comb of spikes there and
 * the condition gets spurious roots. The estimate is therefore built on the log scale, where
 * both are resolved by the same bandwidth: Y = ln|g_i| over the non-zero values, a Gaussian
 * kernel estimate q̂ of Y with Silverman's bandwidth h = 0.9·min(sd, IQR/1.34)·m^{−1/5}
 * (m non-zero values), and back-transformed and symmetrised,
 * \f[ \hat p(x) = (1 − π_0)\,\frac{\hat q(\ln|x|)}{2|x|}, \f]
 * π_0 the fraction of exact zeros (an atom the p^{1/3} theory ignores: it adds no rounding
 * error when 0 is a level and is left out of the density). Then
 * \f[ C(α) = 2\int_{−∞}^{\ln α} \left(\frac{(1 − π_0)\hat q(y)}{2}\right)^{1/3} e^{2y/3}\,dy,\f]
 * computed by the trapezoid rule on the grid of q̂ (linear binning, spacing h/4, at most 65537
 * points, kernel cut at 5h).
 */
#include <armadillo>
#include <cstdint>
#include <vector>

namespace gradquant {

/** The empirical law of |g| of a sample: exact tail moments and a kernel density. */
class EmpiricalMagnitudes {
 public:
  /** Pools the values of @p slabs. Needs at least one non-zero value for Density(). */
  explicit EmpiricalMagnitudes(const std::vector<arma::fvec>& slabs);

  /** Sample size n. */
  std::size_t Size() const { return abs_.size(); }
  /** max |g_i|. */
  double Max() const { return abs_.empty() ? 0.0 : abs_.back(); }
  /** The kernel bandwidth h on the ln|g| scale (0 if fewer than 2 distinct non-zero |g|). */
  double Bandwidth() const { return bandwidth_; }

  /** mean (|g_i| − α)_+ = 2∫_α^∞ (g − α)p̂_n(g) dg, exact for the sample. */
  double TailMean(double alpha) const;
  /** mean (|g_i| − α)_+², the truncation error per coordinate, exact for the sample. */
  double TruncationError(double alpha) const;
  /** p̂(x), the estimated density of g (symmetric), for x > 0. */
  double Density(double x) const;
  /** C(α) = ∫_{−α}^{α} p̂^{1/3}. */
  double CubeRootMass(double alpha) const;

 private:
  double Interpolate(const std::vector<double>& table, double x) const;

  std::vector<double> abs_;      // sorted |g_i|
  std::vector<double> suffix1_;  // suffix1_[i] = Σ_{j>=i} |g_j|
  std::vector<double> suffix2_;  // suffix2_[i] = Σ_{j>=i} |g_j|²
  double zeroFraction_ = 0;      // π_0
  double bandwidth_ = 0;
  double y0_ = 0, step_ = 0;          // grid y_k = y0_ + k·step_ on the ln|g| scale
  std::vector<double> logDensity_;    // q̂(y_k)
  std::vector<double> cubeRootMass_;  // C(e^{y_k})
};

/**
 * The general error model (docs/quantizers.md#tnq) on the empirical law: TruncationError(α) +
 * C(α)³/(4s²).
 */
double EmpiricalErrorModel(const EmpiricalMagnitudes& m, double alpha, std::uint32_t s);

/**
 * The root of the threshold condition for the empirical law: every sign change (+ to −) of
 * h(α) = TailMean(α) − (3/(4s²))C(α)²p̂(α)^{1/3} on 4096 points equally spaced in ln α, from
 * the bottom of the density grid to max|g|, is refined by bisection, and the root with the
 * least EmpiricalErrorModel is returned (max|g| if h never changes sign). NaN if the sample
 * has fewer than 2 distinct non-zero |g|.
 */
double EmpiricalOptimalThreshold(const EmpiricalMagnitudes& m, std::uint32_t s);

}  // namespace gradquant
