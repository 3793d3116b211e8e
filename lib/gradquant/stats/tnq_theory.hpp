#pragma once
/**
 * @file tnq_theory.hpp
 * The closed forms and the general optimality condition of truncated non-uniform quantization
 * (TNQ), docs/quantizers.md#tnq, shared by the `tnq` quantizer and the threshold reports.
 *
 * Model: coordinates i.i.d. Laplace(0, γ), p(g) = e^{−|g|/γ}/(2γ). Clip at α, then round
 * stochastically onto s+1 levels −α = ℓ_0 < … < ℓ_s = α with density λ ∝ p^{1/3}. The
 * per-coordinate error model (worst-case spacing²/4 for the rounding) is
 * \f[ f(α) = 2γ^2 e^{−α/γ} + \frac{27γ^2}{s^2}\left(1 − e^{−α/(3γ)}\right)^3, \f]
 * minimised at \f$α^* = 3γ\ln(1 + s/a)\f$ with \f$f(α^*) = 27γ^2/(s+a)^2\f$, a = 3√6/2.
 * For any symmetric density the optimum solves the threshold condition
 * \f[ 2\int_α^∞ (g − α)p(g)\,dg = \frac{3}{4s^2} C(α)^2 p(α)^{1/3},\quad
 *     C(α) = \int_{−α}^{α} p^{1/3}. \f]
 *
 * Levels (with our float rule): ℓ_j is computed from its formula only for s/2 < j < s;
 * ℓ_{s−j} := −ℓ_j, ℓ_{s/2} := 0 for even s, ℓ_0 := −α and ℓ_s := α by assignment, so the
 * levels are exactly symmetric, end exactly at ±α, and contain 0 iff s is even.
 *
 * Derived, not read from the paper (whose derivation we could not see): see docs/quantizers.md#tnq
 * for what is reconstructed.
 */
#include <cstdint>
#include <functional>
#include <vector>

namespace gradquant {

/** a = 3√6/2 = √13.5, the offset in α* and f(α*). */
inline constexpr double kTnqA = 3.6742346141747673;

/** α* = 3γ ln(1 + s/a), the closed-form optimal threshold for Laplace(0, γ). */
double TnqAlphaStar(double gamma, std::uint32_t s);

/** f(α): the Laplace error model at threshold α (truncation + worst-case rounding). */
double TnqLaplaceError(double alpha, double gamma, std::uint32_t s);

/** f(α*) = 27γ²/(s + a)². */
double TnqErrorStar(double gamma, std::uint32_t s);

/** f_U(α) = 2γ²e^{−α/γ} + (α²/s²)(1 − e^{−α/γ}) for uniform levels. */
double TnqUniformError(double alpha, double gamma, std::uint32_t s);

/**
 * The companded levels at α = α*, from the closed form
 * ℓ_j = 3γ·sgn(2j − s)·ln((s + a)/(s + a − |2j − s|)) and the mirroring rule.
 * @return s+1 increasing levels, ℓ_0 = −α*, ℓ_s = α*.
 */
std::vector<double> TnqLevelsAtOptimum(double gamma, std::uint32_t s);

/**
 * The companded levels for any threshold α > 0: ℓ_j = −3γ·sgn(z_j)·ln(1 − |z_j|·A),
 * z_j = 2j/s − 1, A = 1 − e^{−α/(3γ)}, evaluated with log1p/expm1, plus the mirroring rule.
 */
std::vector<double> TnqLaplaceLevels(double alpha, double gamma, std::uint32_t s);

/** Equally spaced levels ℓ_j = α(2j − s)/s with the same mirroring rule. */
std::vector<double> TnqUniformLevels(double alpha, std::uint32_t s);

/** A symmetric density p(g) = p(−g), negligible (or zero) beyond ±support. */
struct SymmetricPdf {
  std::function<double(double)> density;
  double support = 0;
};

/** Laplace(0, γ); support 60γ. */
SymmetricPdf LaplacePdf(double gamma);

/** N(0, σ²); support 40σ. */
SymmetricPdf GaussianPdf(double sigma);

/** Truncation error 2∫_α^∞ (g − α)² p(g) dg (numerical). */
double TruncationError(const SymmetricPdf& pdf, double alpha);

/** The rounding-error model (1/(4s²))·C(α)³ for levels with density ∝ p^{1/3}. */
double CompandedRoundingModel(const SymmetricPdf& pdf, double alpha, std::uint32_t s);

/** The general error model: TruncationError + CompandedRoundingModel. */
double TnqGeneralError(const SymmetricPdf& pdf, double alpha, std::uint32_t s);

/**
 * The optimal threshold for @p pdf: the root of the threshold condition, by bisection on
 * (0, support]. Reduces to TnqAlphaStar for Laplace.
 */
double TnqOptimalThreshold(const SymmetricPdf& pdf, std::uint32_t s);

/**
 * The exact stochastic-rounding error of given levels under @p pdf:
 * Σ_j ∫_{ℓ_j}^{ℓ_{j+1}} (ℓ_{j+1} − g)(g − ℓ_j) p(g) dg (clipped values sit on ±α and add 0).
 */
double RoundingVariance(const std::vector<double>& levels, const SymmetricPdf& pdf);

}  // namespace gradquant
