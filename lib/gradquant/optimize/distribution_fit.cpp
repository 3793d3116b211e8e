#include "gradquant/optimize/distribution_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {

std::vector<double> SortedValues(const std::vector<arma::fvec>& slabs) {
  std::vector<double> values;
  for (const auto& s : slabs) values.insert(values.end(), s.begin(), s.end());
  std::sort(values.begin(), values.end());
  return values;
}

double LaplaceCdf(double x, double gamma) {
  return x < 0 ? 0.5 * std::exp(x / gamma) : 1.0 - 0.5 * std::exp(-x / gamma);
}

double GaussCdf(double x, double sigma) { return 0.5 * std::erfc(-x / (sigma * std::sqrt(2.0))); }

DistributionFit FitDistribution(const std::vector<arma::fvec>& slabs) {
  const std::vector<double> sorted = SortedValues(slabs);
  DistributionFit fit;
  fit.n = sorted.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (sorted.empty()) {
    fit.gamma = fit.sigma = fit.meanSquare = fit.ksLaplace = fit.ksGauss = nan;
    return fit;
  }
  double absSum = 0, sqSum = 0;
  for (double x : sorted) {
    absSum += std::fabs(x);
    sqSum += x * x;
  }
  const double n = static_cast<double>(sorted.size());
  fit.gamma = absSum / n;
  fit.meanSquare = sqSum / n;
  fit.sigma = std::sqrt(fit.meanSquare);
  fit.ksLaplace =
      fit.gamma > 0 ? KsDistance(sorted, [&](double x) { return LaplaceCdf(x, fit.gamma); }) : nan;
  fit.ksGauss =
      fit.sigma > 0 ? KsDistance(sorted, [&](double x) { return GaussCdf(x, fit.sigma); }) : nan;
  return fit;
}

}  // namespace gradquant
