#include "gradquant/quantizers/lloyd_max.hpp"

#include <array>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>

namespace gradquant {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double Density(double t) {
  return std::isinf(t) ? 0.0 : std::exp(-0.5 * t * t) / std::sqrt(2 * M_PI);
}
double Tail(double t) { return std::isinf(t) ? 0.0 : 0.5 * std::erfc(t / std::sqrt(2.0)); }

// E[Z | a < Z < b] and P(a < Z < b) for 0 <= a < b <= ∞ (upper tails: no cancellation).
struct Cell {
  double centroid, mass;
};
Cell CellOf(double a, double b) {
  const double mass = Tail(a) - Tail(b);
  return {(Density(a) - Density(b)) / mass, mass};
}

// The positive half of the K = 2m level quantizer: boundaries t_0 = 0 < t_1 < .. < t_m = ∞,
// centroid j of (t_{j-1}, t_j) for j = 1..m. Lloyd's iteration, then Newton on t_1..t_{m-1}.
std::vector<double> HalfCentroids(std::size_t m) {
  std::vector<double> t(m + 1);
  for (std::size_t j = 0; j < m; ++j) t[j] = 4.0 * static_cast<double>(j) / static_cast<double>(m);
  t[m] = kInf;
  std::vector<Cell> cells(m);
  auto centroids = [&] {
    for (std::size_t j = 0; j < m; ++j) cells[j] = CellOf(t[j], t[j + 1]);
  };
  for (int it = 0; it < 200; ++it) {  // globally convergent: brings Newton into its basin
    centroids();
    for (std::size_t j = 1; j < m; ++j) t[j] = 0.5 * (cells[j - 1].centroid + cells[j].centroid);
  }
  // Newton on F_j = t_j − (c_j + c_{j+1})/2 (j = 1..m−1, cells j−1 and j here), with
  // ∂c/∂a = φ(a)(c − a)/P and ∂c/∂b = φ(b)(b − c)/P for the cell (a, b): tridiagonal.
  for (int it = 0; it < 100 && m > 1; ++it) {
    centroids();
    const std::size_t k = m - 1;
    std::vector<double> lower(k, 0.0), diag(k), upper(k, 0.0), rhs(k);
    double worst = 0.0;
    for (std::size_t j = 1; j < m; ++j) {
      const Cell& left = cells[j - 1];
      const Cell& right = cells[j];
      const double f = Density(t[j]);
      rhs[j - 1] = -(t[j] - 0.5 * (left.centroid + right.centroid));
      worst = std::max(worst, std::fabs(rhs[j - 1]));
      diag[j - 1] = 1.0 - 0.5 * (f * (t[j] - left.centroid) / left.mass +
                                 f * (right.centroid - t[j]) / right.mass);
      if (j > 1) lower[j - 1] = -0.5 * Density(t[j - 1]) * (left.centroid - t[j - 1]) / left.mass;
      if (j + 1 < m)
        upper[j - 1] = -0.5 * Density(t[j + 1]) * (t[j + 1] - right.centroid) / right.mass;
    }
    if (worst < 1e-15) break;
    for (std::size_t i = 1; i < k; ++i) {  // Thomas algorithm
      const double w = lower[i] / diag[i - 1];
      diag[i] -= w * upper[i - 1];
      rhs[i] -= w * rhs[i - 1];
    }
    rhs[k - 1] /= diag[k - 1];
    for (std::size_t i = k - 1; i-- > 0;) rhs[i] = (rhs[i] - upper[i] * rhs[i + 1]) / diag[i];
    for (std::size_t j = 1; j < m; ++j) t[j] += rhs[j - 1];
  }
  centroids();
  std::vector<double> c(m);
  for (std::size_t j = 0; j < m; ++j) c[j] = cells[j].centroid;
  return c;
}

LloydMaxCodebook Make(int bits) {
  const std::size_t m = std::size_t{1} << (bits - 1);
  const std::vector<double> half = HalfCentroids(m);
  LloydMaxCodebook book;
  book.levels.resize(2 * m);
  for (std::size_t j = 0; j < m; ++j) {
    const float c = static_cast<float>(half[j]);
    book.levels[m + j] = c;
    book.levels[m - 1 - j] = -c;
  }
  for (std::size_t j = 0; j + 1 < 2 * m; ++j) {
    book.boundaries.push_back(0.5 * (static_cast<double>(book.levels[j]) + book.levels[j + 1]));
  }
  // E(Z − c)² over each cell = P − 2cA + c²P' with A = ∫ zφ = φ(a) − φ(b): twice the half line.
  double d = 0.0;
  for (std::size_t j = 0; j < m; ++j) {
    const double a = book.boundaries[m - 1 + j];
    const double b = j + 1 < m ? book.boundaries[m + j] : kInf;
    const double c = book.levels[m + j];
    const double mass = Tail(a) - Tail(b);
    const double second = mass + a * Density(a) - (std::isinf(b) ? 0.0 : b * Density(b));
    d += second - 2 * c * (Density(a) - Density(b)) + c * c * mass;
  }
  book.distortion = 2 * d;
  return book;
}

}  // namespace

const LloydMaxCodebook& GaussianCodebook(int bits) {
  if (bits < 1 || bits > kMaxLloydMaxBits) {
    throw std::invalid_argument("GaussianCodebook: bits " + std::to_string(bits) +
                                " not in [1, 8]");
  }
  static std::array<LloydMaxCodebook, kMaxLloydMaxBits + 1> books;
  static std::array<std::once_flag, kMaxLloydMaxBits + 1> once;
  std::call_once(once[bits], [bits] { books[bits] = Make(bits); });
  return books[bits];
}

}  // namespace gradquant
