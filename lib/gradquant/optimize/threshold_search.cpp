#include "gradquant/optimize/threshold_search.hpp"

#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <mutex>

#include "gradquant/optimize/empirical_threshold.hpp"
#include "gradquant/stats/tnq_theory.hpp"

namespace gradquant {
namespace {

constexpr double kInvPhi = 0.6180339887498949;  // 1/φ

std::uint32_t Intervals(std::uint32_t bits) { return (1u << bits) - 1; }

ThresholdPoint Point(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                     std::uint32_t bits, double alpha, const PooledFit& fit) {
  ThresholdPoint p;
  p.alpha = alpha;
  p.predicted = TnqLaplaceError(alpha, fit.gamma, Intervals(bits)) / fit.meanSquare;
  p.measured = MeasureTnq(slabs, where, bits, alpha);
  return p;
}

}  // namespace

double GaussianThreshold(double sigma, std::uint32_t s) {
  static std::mutex mutex;
  static std::map<std::uint32_t, double> unit;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = unit.find(s);
  if (it == unit.end()) it = unit.emplace(s, TnqOptimalThreshold(GaussianPdf(1.0), s)).first;
  return sigma * it->second;
}

LogMinimum MinimizeLog(const std::function<double(double)>& objective, double lo, double hi,
                       const ThresholdOptions& options) {
  LogMinimum best;
  best.value = std::numeric_limits<double>::infinity();
  auto eval = [&](double logAlpha) {
    const double alpha = std::exp(logAlpha);
    const double f = objective(alpha);
    ++best.evaluations;
    if (f < best.value) {
      best.alpha = alpha;
      best.value = f;
    }
    return f;
  };
  const std::size_t g = std::max<std::size_t>(options.gridPoints, 3);
  const double step = (std::log(hi) - std::log(lo)) / static_cast<double>(g - 1);
  // The grid, extended by whole steps past either end while the best point sits on that end
  // (at most 2(g − 1) steps each way), so that the bracket below holds a local minimum.
  std::deque<std::pair<double, double>> grid;  // (ln α, value), increasing ln α
  for (std::size_t k = 0; k < g; ++k) {
    const double x = std::log(lo) + step * static_cast<double>(k);
    grid.emplace_back(x, eval(x));
  }
  auto argmin = [&] {
    std::size_t best = 0;
    for (std::size_t k = 1; k < grid.size(); ++k)
      best = grid[k].second < grid[best].second ? k : best;
    return best;
  };
  for (std::size_t extra = 0; extra < 2 * (g - 1); ++extra) {
    const std::size_t k = argmin();
    if (k == 0) {
      const double x = grid.front().first - step;
      grid.emplace_front(x, eval(x));
    } else if (k == grid.size() - 1) {
      const double x = grid.back().first + step;
      grid.emplace_back(x, eval(x));
    } else {
      break;
    }
  }
  const std::size_t k = argmin();
  double a = grid[k > 0 ? k - 1 : 0].first;
  double b = grid[std::min(k + 1, grid.size() - 1)].first;
  double c = b - kInvPhi * (b - a), d = a + kInvPhi * (b - a);
  double fc = eval(c), fd = eval(d);
  while (b - a > options.logResolution) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - kInvPhi * (b - a);
      fc = eval(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + kInvPhi * (b - a);
      fd = eval(d);
    }
  }
  return best;
}

AlphaSearch SearchThreshold(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                            std::uint32_t bits, double lo, double hi,
                            const ThresholdOptions& options) {
  AlphaSearch found;
  found.error.nmse = std::numeric_limits<double>::infinity();
  const LogMinimum m = MinimizeLog(
      [&](double alpha) {
        const TnqError e = MeasureTnq(slabs, where, bits, alpha);
        if (e.nmse < found.error.nmse) found.error = e;
        return e.nmse;
      },
      lo, hi, options);
  found.alpha = m.alpha;
  found.evaluations = m.evaluations;
  return found;
}

ThresholdRow AnalyzeThresholds(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                               std::uint32_t bits, const ThresholdOptions& options) {
  ThresholdRow row;
  row.bits = bits;
  row.fit = FitPooled(slabs);
  const std::uint32_t s = Intervals(bits);
  if (!(row.fit.gamma > 0)) {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const TnqError none{nan, nan, nan};
    for (ThresholdPoint* p : {&row.closed, &row.gauss, &row.empiricalPdf, &row.search}) {
      *p = {nan, nan, none};
    }
    row.automatic = none;
    return row;
  }
  const double closed = TnqAlphaStar(row.fit.gamma, s);
  row.closed = Point(slabs, where, bits, closed, row.fit);
  row.gauss = Point(slabs, where, bits, GaussianThreshold(row.fit.sigma, s), row.fit);
  const EmpiricalMagnitudes empirical(slabs);
  const double alphaEmpirical = EmpiricalOptimalThreshold(empirical, s);
  if (std::isnan(alphaEmpirical)) {  // fewer than 2 distinct non-zero values
    const double nan = std::numeric_limits<double>::quiet_NaN();
    row.empiricalPdf = {nan, nan, {nan, nan, nan}};
  } else {
    row.empiricalPdf = Point(slabs, where, bits, alphaEmpirical, row.fit);
  }
  const AlphaSearch found = SearchThreshold(slabs, where, bits, options.spanLo * closed,
                                            options.spanHi * closed, options);
  row.search.alpha = found.alpha;
  row.search.predicted = TnqLaplaceError(found.alpha, row.fit.gamma, s) / row.fit.meanSquare;
  row.search.measured = found.error;
  row.evaluations = found.evaluations;
  row.automatic = MeasureTnq(slabs, where, bits, std::numeric_limits<double>::quiet_NaN());
  return row;
}

std::vector<ThresholdPoint> ThresholdCurve(const std::vector<arma::fvec>& slabs,
                                           const TnqTrials& where, std::uint32_t bits,
                                           const ThresholdOptions& options, std::size_t points) {
  const PooledFit fit = FitPooled(slabs);
  std::vector<ThresholdPoint> curve;
  if (!(fit.gamma > 0) || points < 2) return curve;
  const double closed = TnqAlphaStar(fit.gamma, Intervals(bits));
  const double a0 = std::log(options.spanLo * closed), a1 = std::log(options.spanHi * closed);
  for (std::size_t k = 0; k < points; ++k) {
    const double alpha = std::exp(a0 + (a1 - a0) * static_cast<double>(k) / (points - 1));
    curve.push_back(Point(slabs, where, bits, alpha, fit));
  }
  return curve;
}

}  // namespace gradquant
