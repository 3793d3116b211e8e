#pragma once
/**
 * @file confidence.hpp
 * 95 % confidence intervals for a mean over independent trials (Student's t).
 *
 * For R values x_r with mean x̄ and sample standard deviation s (divisor R − 1), the half-width
 * is t_{0.975, R−1} · s / sqrt(R). t comes from a table for R − 1 <= 30 (scipy.stats.t.ppf to 6
 * digits) and from the Cornish–Fisher expansion of t in powers of 1/ν beyond (Abramowitz &
 * Stegun 26.7.5; error below 3e-6 for ν > 30).
 */
#include <cstddef>
#include <vector>

namespace gradquant {

/** The 0.975 quantile of Student's t with @p df degrees of freedom (df >= 1). */
double StudentT975(std::size_t df);

/** A mean and the half-width of its 95 % confidence interval. */
struct MeanCi {
  double mean;       ///< NaN if there are no values
  double halfWidth;  ///< NaN with fewer than two values
};

/** The mean of @p values and the t-based 95 % half-width. */
MeanCi MeanWithCi(const std::vector<double>& values);

}  // namespace gradquant
