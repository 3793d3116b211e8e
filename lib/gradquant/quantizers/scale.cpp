#include "gradquant/quantizers/scale.hpp"

#include <cmath>
#include <limits>

namespace gradquant {

float RoundUpToFloat(double x) {
  float f = static_cast<float>(x);
  if (static_cast<double>(f) < x) f = std::nextafter(f, std::numeric_limits<float>::infinity());
  return f;
}

float StepForMax(double m, double s) {
  if (m == 0.0) return 0.0f;
  float step = static_cast<float>(m / s);
  if (static_cast<double>(step) * s < m) {
    step = std::nextafter(step, std::numeric_limits<float>::infinity());
  }
  return step;
}

std::vector<std::pair<std::size_t, std::size_t>> Buckets(std::size_t n, std::size_t bucket) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  if (bucket == 0 || bucket >= n) {
    out.emplace_back(0, n);
    return out;
  }
  for (std::size_t b = 0; b < n; b += bucket) out.emplace_back(b, std::min(n, b + bucket));
  return out;
}

}  // namespace gradquant
