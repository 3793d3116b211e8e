#pragma once
/**
 * @file threshold_search.hpp
 * The truncation-threshold report of `gradquant optimize` (docs/cli.md#the-thresholds-table) for
 * one record of one layer at one bit budget: four thresholds for `tnq:alpha=<α>,bits=<B>`,
 * each with the Laplace-model prediction and the measured error (tnq_measure.hpp).
 *
 * - closed: α* = 3γ̂ ln(1 + s/a), s = 2^B − 1, γ̂ = mean |g| over the record's workers;
 * - gauss: the threshold-condition root for N(0, σ̂²), σ̂² = mean g² (TnqOptimalThreshold, no
 *   closed form);
 * - empirical_pdf: the threshold-condition root for the sample itself (empirical_threshold.hpp);
 * - search: the α minimising the measured error: a grid of `gridPoints` values equally spaced in
 *   ln α over [spanLo, spanHi]·α* (extended past an end where the best value sits on it), then
 *   golden-section search in ln α on the bracket around the best grid point until it is
 *   narrower than `logResolution` (0.01: α within about 1%). Every
 *   α is measured with the same R seeds (common random numbers), so differences between α are
 *   not blurred by independent noise; the result is the best α evaluated.
 *
 * The levels are always the quantizer's own (companded for Laplace with each worker's γ̂_w,
 * rebuilt for each α): the report asks what each threshold costs in `tnq`, not what a
 * quantizer built for another law would do. The prediction is the Laplace model
 * f(α) = 2γ̂²e^{−α/γ̂} + (27γ̂²/s²)(1 − e^{−α/(3γ̂)})³ over mean g², for every α.
 */
#include <armadillo>
#include <cstdint>
#include <functional>
#include <vector>

#include "gradquant/optimize/pooled_fit.hpp"
#include "gradquant/optimize/tnq_measure.hpp"

namespace gradquant {

/** The search range, resolution and Monte Carlo effort. */
struct ThresholdOptions {
  double spanLo = 0.2;          ///< search from spanLo·α*
  double spanHi = 5.0;          ///< to spanHi·α*
  std::size_t gridPoints = 25;  ///< coarse grid, equally spaced in ln α
  double logResolution = 0.01;  ///< final bracket width in ln α
};

/** One threshold with its prediction and measurement. */
struct ThresholdPoint {
  double alpha = 0;
  double predicted = 0;  ///< Laplace model f(α)/mean g²
  TnqError measured;
};

/** One row of the report. */
struct ThresholdRow {
  PooledFit fit;
  std::uint32_t bits = 0;
  ThresholdPoint closed, gauss, empiricalPdf, search;
  TnqError automatic;           ///< `tnq:alpha=auto,bits=B`: each worker its own α*
  std::size_t evaluations = 0;  ///< measurements spent by the search
};

/** Result of MinimizeLog. */
struct LogMinimum {
  double alpha = 0;
  double value = 0;
  std::size_t evaluations = 0;
};

/**
 * Minimises @p objective over α from [lo, hi]: `gridPoints` values equally spaced in ln α
 * (extended step by step past an end while the best value sits on that end, at most
 * 2(gridPoints − 1) steps each way), then golden-section search in ln α on the two grid cells
 * around the best one until the bracket is narrower than `logResolution`. Returns the best α
 * evaluated (0 < lo < hi).
 */
LogMinimum MinimizeLog(const std::function<double(double)>& objective, double lo, double hi,
                       const ThresholdOptions& options);

/** Result of SearchThreshold. */
struct AlphaSearch {
  double alpha = 0;
  TnqError error;
  std::size_t evaluations = 0;
};

/**
 * Minimises the measured nmse over α in [lo, hi] (grid in ln α, then golden section).
 * @param lo, hi 0 < lo < hi.
 */
AlphaSearch SearchThreshold(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                            std::uint32_t bits, double lo, double hi,
                            const ThresholdOptions& options);

/** The threshold-condition root of N(0, σ²) for s intervals: σ times a cached unit solution. */
double GaussianThreshold(double sigma, std::uint32_t s);

/**
 * The full row for @p bits. A record whose values are all 0 gives NaN thresholds and errors.
 */
ThresholdRow AnalyzeThresholds(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                               std::uint32_t bits, const ThresholdOptions& options);

/**
 * The measured and predicted error at @p points values of α equally spaced in ln α over
 * [spanLo, spanHi]·α* (for plots).
 */
std::vector<ThresholdPoint> ThresholdCurve(const std::vector<arma::fvec>& slabs,
                                           const TnqTrials& where, std::uint32_t bits,
                                           const ThresholdOptions& options, std::size_t points);

}  // namespace gradquant
