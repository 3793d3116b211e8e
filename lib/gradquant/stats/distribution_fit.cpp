#include "gradquant/stats/distribution_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

template <class Cdf>
double KsDistance(const std::vector<double>& sorted, Cdf cdf) {
  const double n = static_cast<double>(sorted.size());
  double d = 0.0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const double f = cdf(sorted[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return d;
}

}  // namespace

double LaplaceCdf(double x, double scale) {
  if (scale <= 0.0) return x < 0.0 ? 0.0 : 1.0;
  return x < 0.0 ? 0.5 * std::exp(x / scale) : 1.0 - 0.5 * std::exp(-x / scale);
}

double GaussCdf(double x, double sigma) {
  if (sigma <= 0.0) return x < 0.0 ? 0.0 : 1.0;
  return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0)));
}

DistributionFit FitZeroLocation(std::vector<double>& values) {
  DistributionFit fit{kNan, kNan, kNan, kNan};
  if (values.empty()) return fit;
  double sumAbs = 0.0, sumSq = 0.0;
  for (double v : values) {
    sumAbs += std::fabs(v);
    sumSq += v * v;
  }
  const double n = static_cast<double>(values.size());
  fit.laplaceScale = sumAbs / n;
  fit.gaussSigma = std::sqrt(sumSq / n);
  // An all-zero pool has no continuous law to compare with.
  if (!(fit.laplaceScale > 0.0)) return fit;
  std::sort(values.begin(), values.end());
  fit.ksLaplace = KsDistance(values, [&](double x) { return LaplaceCdf(x, fit.laplaceScale); });
  fit.ksGauss = KsDistance(values, [&](double x) { return GaussCdf(x, fit.gaussSigma); });
  return fit;
}

}  // namespace gradquant
