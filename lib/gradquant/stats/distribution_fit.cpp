#include "gradquant/stats/distribution_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradquant/core/parallel.hpp"
#include "gradquant/core/radix_sort.hpp"

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// Pieces a large pool is cut into for the KS maximum: a fixed count, so the cut (and the
// result) does not depend on the thread count.
constexpr std::size_t kPieces = 8;
constexpr std::size_t kSplitAbove = std::size_t{1} << 18;

std::size_t PieceBegin(std::size_t piece, std::size_t pieces, std::size_t n) {
  return n / pieces * piece + std::min(piece, n % pieces);
}

template <class Cdf>
double KsDistance(const std::vector<float>& sorted, Cdf cdf) {
  const std::size_t size = sorted.size();
  const double n = static_cast<double>(size);
  const std::size_t pieces = size > kSplitAbove ? kPieces : 1;
  std::vector<double> pieceMax(pieces, 0.0);
  SplitFor(pieces, [&](std::size_t p) {
    double d = 0.0;
    for (std::size_t i = PieceBegin(p, pieces, size); i < PieceBegin(p + 1, pieces, size); ++i) {
      const double f = cdf(sorted[i]);
      d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
    }
    pieceMax[p] = d;
  });
  return *std::max_element(pieceMax.begin(), pieceMax.end());
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

DistributionFit FitZeroLocation(std::vector<float>& values) {
  DistributionFit fit{kNan, kNan, kNan, kNan};
  if (values.empty()) return fit;
  double sumAbs = 0.0, sumSq = 0.0;
  for (const double v : values) {
    sumAbs += std::fabs(v);
    sumSq += v * v;
  }
  const double n = static_cast<double>(values.size());
  fit.laplaceScale = sumAbs / n;
  fit.gaussSigma = std::sqrt(sumSq / n);
  // An all-zero pool has no continuous law to compare with.
  if (!(fit.laplaceScale > 0.0)) return fit;
  RadixSort(values);
  fit.ksLaplace = KsDistance(values, [&](double x) { return LaplaceCdf(x, fit.laplaceScale); });
  fit.ksGauss = KsDistance(values, [&](double x) { return GaussCdf(x, fit.gaussSigma); });
  return fit;
}

}  // namespace gradquant
