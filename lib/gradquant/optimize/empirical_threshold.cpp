#include "gradquant/optimize/empirical_threshold.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr std::size_t kMaxGrid = 65537;
constexpr double kKernelCut = 5.0;   // kernel support in bandwidths
constexpr std::size_t kScan = 4096;  // root scan points

double Quantile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const std::size_t k = static_cast<std::size_t>(pos);
  const double frac = pos - static_cast<double>(k);
  return k + 1 < sorted.size() ? sorted[k] + frac * (sorted[k + 1] - sorted[k]) : sorted[k];
}

// Silverman's rule of thumb for a sorted sample.
double SilvermanBandwidth(const std::vector<double>& sorted) {
  const double n = static_cast<double>(sorted.size());
  double mean = 0, sq = 0;
  for (double y : sorted) mean += y;
  mean /= n;
  for (double y : sorted) sq += (y - mean) * (y - mean);
  const double sd = std::sqrt(sq / std::max(1.0, n - 1));
  const double iqr = (Quantile(sorted, 0.75) - Quantile(sorted, 0.25)) / 1.34;
  const double spread = iqr > 0 ? std::min(sd, iqr) : sd;
  return 0.9 * spread * std::pow(n, -0.2);
}

// Binned Gaussian kernel estimate of a sorted sample on y0 + k·step, k < points.
std::vector<double> BinnedKde(const std::vector<double>& ys, double y0, double step,
                              std::size_t points, double h) {
  std::vector<double> counts(points, 0.0);
  for (double y : ys) {
    const double pos = (y - y0) / step;
    const std::size_t k = std::min(static_cast<std::size_t>(std::max(0.0, pos)), points - 2);
    const double frac = std::clamp(pos - static_cast<double>(k), 0.0, 1.0);
    counts[k] += 1.0 - frac;
    counts[k + 1] += frac;
  }
  const std::size_t reach = static_cast<std::size_t>(std::ceil(kKernelCut * h / step));
  std::vector<double> kernel(reach + 1);
  const double norm = 1.0 / (static_cast<double>(ys.size()) * h * std::sqrt(2.0 * kPi));
  for (std::size_t d = 0; d <= reach; ++d) {
    const double z = static_cast<double>(d) * step / h;
    kernel[d] = norm * std::exp(-0.5 * z * z);
  }
  std::vector<double> density(points, 0.0);
  for (std::size_t k = 0; k < points; ++k) {
    if (counts[k] == 0) continue;
    const std::size_t lo = k > reach ? k - reach : 0, hi = std::min(points - 1, k + reach);
    for (std::size_t j = lo; j <= hi; ++j) density[j] += counts[k] * kernel[j > k ? j - k : k - j];
  }
  return density;
}

}  // namespace

EmpiricalMagnitudes::EmpiricalMagnitudes(const std::vector<arma::fvec>& slabs) {
  for (const auto& s : slabs) {
    for (float x : s) abs_.push_back(std::fabs(static_cast<double>(x)));
  }
  std::sort(abs_.begin(), abs_.end());
  const std::size_t n = abs_.size();
  suffix1_.assign(n + 1, 0.0);
  suffix2_.assign(n + 1, 0.0);
  for (std::size_t i = n; i-- > 0;) {
    suffix1_[i] = suffix1_[i + 1] + abs_[i];
    suffix2_[i] = suffix2_[i + 1] + abs_[i] * abs_[i];
  }
  std::vector<double> ys;
  for (double a : abs_) {
    if (a > 0) ys.push_back(std::log(a));
  }
  if (ys.size() < 2 || ys.front() == ys.back()) return;
  zeroFraction_ = 1.0 - static_cast<double>(ys.size()) / static_cast<double>(n);
  bandwidth_ = SilvermanBandwidth(ys);
  if (!(bandwidth_ > 0)) bandwidth_ = (ys.back() - ys.front()) / 100.0;  // mostly tied values
  const double h = bandwidth_;
  y0_ = ys.front() - kKernelCut * h;
  const double span = ys.back() + kKernelCut * h - y0_;
  const std::size_t points =
      std::min(kMaxGrid, static_cast<std::size_t>(std::ceil(span / (h / 4.0))) + 1);
  step_ = span / static_cast<double>(points - 1);
  logDensity_ = BinnedKde(ys, y0_, step_, points, h);

  // C(e^{y_k}) = 2∫_{−∞}^{y_k} ((1 − π_0) q̂(y)/2)^{1/3} e^{2y/3} dy, trapezoid on the grid.
  cubeRootMass_.assign(points, 0.0);
  auto integrand = [&](std::size_t k) {
    const double y = y0_ + step_ * static_cast<double>(k);
    return std::cbrt((1.0 - zeroFraction_) * logDensity_[k] / 2.0) * std::exp(2.0 * y / 3.0);
  };
  double prev = integrand(0);
  for (std::size_t k = 1; k < points; ++k) {
    const double cur = integrand(k);
    cubeRootMass_[k] = cubeRootMass_[k - 1] + step_ * (prev + cur);  // 2 × trapezoid
    prev = cur;
  }
}

double EmpiricalMagnitudes::TailMean(double alpha) const {
  if (abs_.empty()) return 0.0;
  const std::size_t i = std::upper_bound(abs_.begin(), abs_.end(), alpha) - abs_.begin();
  const double count = static_cast<double>(abs_.size() - i);
  return (suffix1_[i] - alpha * count) / static_cast<double>(abs_.size());
}

double EmpiricalMagnitudes::TruncationError(double alpha) const {
  if (abs_.empty()) return 0.0;
  const std::size_t i = std::upper_bound(abs_.begin(), abs_.end(), alpha) - abs_.begin();
  const double count = static_cast<double>(abs_.size() - i);
  const double sum = suffix2_[i] - 2.0 * alpha * suffix1_[i] + alpha * alpha * count;
  return std::max(0.0, sum) / static_cast<double>(abs_.size());
}

double EmpiricalMagnitudes::Interpolate(const std::vector<double>& table, double x) const {
  if (table.empty() || !(x > 0)) return 0.0;
  const double pos = (std::log(x) - y0_) / step_;
  if (pos <= 0) return table.front();
  if (pos >= static_cast<double>(table.size() - 1)) return table.back();
  const std::size_t k = static_cast<std::size_t>(pos);
  const double frac = pos - static_cast<double>(k);
  return table[k] + frac * (table[k + 1] - table[k]);
}

double EmpiricalMagnitudes::Density(double x) const {
  if (logDensity_.empty() || !(x > 0)) return 0.0;
  const double pos = (std::log(x) - y0_) / step_;
  if (pos <= 0 || pos >= static_cast<double>(logDensity_.size() - 1)) return 0.0;
  return (1.0 - zeroFraction_) * Interpolate(logDensity_, x) / (2.0 * x);
}

double EmpiricalMagnitudes::CubeRootMass(double alpha) const {
  return Interpolate(cubeRootMass_, alpha);
}

double EmpiricalErrorModel(const EmpiricalMagnitudes& m, double alpha, std::uint32_t s) {
  const double c = m.CubeRootMass(alpha);
  return m.TruncationError(alpha) + c * c * c / (4.0 * static_cast<double>(s) * s);
}

double EmpiricalOptimalThreshold(const EmpiricalMagnitudes& m, std::uint32_t s) {
  if (m.Bandwidth() <= 0) return std::numeric_limits<double>::quiet_NaN();
  const double s2 = static_cast<double>(s) * s;
  auto h = [&](double alpha) {
    const double c = m.CubeRootMass(alpha);
    return m.TailMean(alpha) - 3.0 / (4.0 * s2) * c * c * std::cbrt(m.Density(alpha));
  };
  // Scan ln α from the smallest non-zero |g|/e² up to max|g|, bisecting every + to − change.
  const double top = std::log(m.Max());
  double bottom = top;
  for (double x = m.Max(); x > 0 && m.CubeRootMass(x) > 0; x /= 2) bottom = std::log(x);
  bottom -= 2.0;
  double best = m.Max(), bestError = EmpiricalErrorModel(m, best, s);
  double prevY = bottom, prevH = h(std::exp(bottom));
  for (std::size_t k = 1; k <= kScan; ++k) {
    const double y = bottom + (top - bottom) * static_cast<double>(k) / kScan;
    const double hy = h(std::exp(y));
    if (prevH > 0 && hy <= 0) {
      double lo = prevY, hi = y;
      for (int it = 0; it < 60; ++it) {
        const double mid = 0.5 * (lo + hi);
        (h(std::exp(mid)) > 0 ? lo : hi) = mid;
      }
      const double root = std::exp(0.5 * (lo + hi));
      const double e = EmpiricalErrorModel(m, root, s);
      if (e < bestError) {
        best = root;
        bestError = e;
      }
    }
    prevY = y;
    prevH = hy;
  }
  return best;
}

}  // namespace gradquant
