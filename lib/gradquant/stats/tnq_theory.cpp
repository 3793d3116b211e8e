#include "gradquant/stats/tnq_theory.hpp"

#include <algorithm>
#include <cmath>

namespace gradquant {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kIntervals = 4096;  // Simpson intervals per integral (even)

// Composite Simpson on [a, b]; the integrands here are smooth inside each call.
double Integrate(const std::function<double(double)>& f, double a, double b) {
  if (!(b > a)) return 0.0;
  const double h = (b - a) / kIntervals;
  double sum = f(a) + f(b);
  for (int i = 1; i < kIntervals; ++i) sum += (i % 2 ? 4.0 : 2.0) * f(a + i * h);
  return sum * h / 3.0;
}

// Fills ℓ_0..ℓ_s from the upper half: upper(j) for s/2 < j < s, then the mirroring rule.
template <class Upper>
std::vector<double> Mirrored(double alpha, std::uint32_t s, Upper upper) {
  std::vector<double> levels(s + 1, 0.0);
  for (std::uint32_t j = s / 2 + 1; j < s; ++j) {
    levels[j] = upper(j);
    levels[s - j] = -levels[j];
  }
  levels[0] = -alpha;
  levels[s] = alpha;
  return levels;
}

// C(α) = ∫_{−α}^{α} p^{1/3}.
double CubeRootMass(const SymmetricPdf& pdf, double alpha) {
  return 2.0 * Integrate([&](double g) { return std::cbrt(pdf.density(g)); }, 0.0, alpha);
}

}  // namespace

double TnqAlphaStar(double gamma, std::uint32_t s) {
  return 3.0 * gamma * std::log1p(static_cast<double>(s) / kTnqA);
}

double TnqLaplaceError(double alpha, double gamma, std::uint32_t s) {
  const double oneMinusX = -std::expm1(-alpha / (3.0 * gamma));
  const double s2 = static_cast<double>(s) * s;
  return 2.0 * gamma * gamma * std::exp(-alpha / gamma) +
         27.0 * gamma * gamma / s2 * oneMinusX * oneMinusX * oneMinusX;
}

double TnqErrorStar(double gamma, std::uint32_t s) {
  const double d = static_cast<double>(s) + kTnqA;
  return 27.0 * gamma * gamma / (d * d);
}

double TnqUniformError(double alpha, double gamma, std::uint32_t s) {
  const double s2 = static_cast<double>(s) * s;
  return 2.0 * gamma * gamma * std::exp(-alpha / gamma) -
         alpha * alpha / s2 * std::expm1(-alpha / gamma);
}

std::vector<double> TnqLevelsAtOptimum(double gamma, std::uint32_t s) {
  const double sa = static_cast<double>(s) + kTnqA;
  return Mirrored(TnqAlphaStar(gamma, s), s, [&](std::uint32_t j) {
    const double d = 2.0 * j - static_cast<double>(s);
    return 3.0 * gamma * std::log(sa / (sa - d));
  });
}

std::vector<double> TnqLaplaceLevels(double alpha, double gamma, std::uint32_t s) {
  const double a = -std::expm1(-alpha / (3.0 * gamma));
  return Mirrored(alpha, s, [&](std::uint32_t j) {
    const double z = (2.0 * j - static_cast<double>(s)) / s;
    return -3.0 * gamma * std::log1p(-z * a);
  });
}

std::vector<double> TnqUniformLevels(double alpha, std::uint32_t s) {
  return Mirrored(alpha, s,
                  [&](std::uint32_t j) { return alpha * (2.0 * j - static_cast<double>(s)) / s; });
}

SymmetricPdf LaplacePdf(double gamma) {
  return {[gamma](double g) { return std::exp(-std::fabs(g) / gamma) / (2.0 * gamma); },
          60.0 * gamma};
}

SymmetricPdf GaussianPdf(double sigma) {
  return {[sigma](double g) {
            const double z = g / sigma;
            return std::exp(-0.5 * z * z) / (sigma * std::sqrt(2.0 * kPi));
          },
          40.0 * sigma};
}

double TruncationError(const SymmetricPdf& pdf, double alpha) {
  return 2.0 * Integrate([&](double g) { return (g - alpha) * (g - alpha) * pdf.density(g); },
                         alpha, pdf.support);
}

double CompandedRoundingModel(const SymmetricPdf& pdf, double alpha, std::uint32_t s) {
  const double c = CubeRootMass(pdf, alpha);
  return c * c * c / (4.0 * static_cast<double>(s) * s);
}

double TnqGeneralError(const SymmetricPdf& pdf, double alpha, std::uint32_t s) {
  return TruncationError(pdf, alpha) + CompandedRoundingModel(pdf, alpha, s);
}

double TnqOptimalThreshold(const SymmetricPdf& pdf, std::uint32_t s) {
  // h(α) = 2∫_α (g − α)p − (3/(4s²)) C(α)² p(α)^{1/3}: positive near 0, negative in the tail.
  const double s2 = static_cast<double>(s) * s;
  auto h = [&](double alpha) {
    const double tail =
        2.0 * Integrate([&](double g) { return (g - alpha) * pdf.density(g); }, alpha, pdf.support);
    const double c = CubeRootMass(pdf, alpha);
    return tail - 3.0 / (4.0 * s2) * c * c * std::cbrt(pdf.density(alpha));
  };
  double lo = 0.0, hi = pdf.support;
  for (int it = 0; it < 200 && hi - lo > 1e-13 * pdf.support; ++it) {
    const double mid = 0.5 * (lo + hi);
    (h(mid) > 0 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double RoundingVariance(const std::vector<double>& levels, const SymmetricPdf& pdf) {
  double total = 0.0;
  for (std::size_t j = 0; j + 1 < levels.size(); ++j) {
    const double lo = levels[j], hi = levels[j + 1];
    auto f = [&](double g) { return (hi - g) * (g - lo) * pdf.density(g); };
    // Split a cell that straddles 0, where a density may have a kink (Laplace).
    if (lo < 0.0 && hi > 0.0) {
      total += Integrate(f, lo, 0.0) + Integrate(f, 0.0, hi);
    } else {
      total += Integrate(f, lo, hi);
    }
  }
  return total;
}

}  // namespace gradquant
