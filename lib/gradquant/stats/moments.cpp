#include "gradquant/stats/moments.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {

Moments Moments::Of(const float* x, std::size_t n) {
  Moments m;
  m.count = static_cast<double>(n);
  if (n == 0) return m;
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double v = x[i];
    sum += v;
    m.sumAbs += std::fabs(v);
    m.sumSq += v * v;
    m.maxAbs = std::max(m.maxAbs, std::fabs(v));
  }
  m.mean = sum / m.count;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - m.mean, d2 = d * d;
    m.m2 += d2;
    m.m3 += d2 * d;
    m.m4 += d2 * d2;
  }
  return m;
}

void Moments::Merge(const Moments& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  const double na = count, nb = o.count, n = na + nb;
  const double delta = o.mean - mean, d2 = delta * delta;
  const double newM4 = m4 + o.m4 + d2 * d2 * na * nb * (na * na - na * nb + nb * nb) / (n * n * n) +
                       6.0 * d2 * (na * na * o.m2 + nb * nb * m2) / (n * n) +
                       4.0 * delta * (na * o.m3 - nb * m3) / n;
  const double newM3 = m3 + o.m3 + d2 * delta * na * nb * (na - nb) / (n * n) +
                       3.0 * delta * (na * o.m2 - nb * m2) / n;
  m2 += o.m2 + d2 * na * nb / n;
  m3 = newM3;
  m4 = newM4;
  mean += delta * nb / n;
  count = n;
  sumAbs += o.sumAbs;
  sumSq += o.sumSq;
  maxAbs = std::max(maxAbs, o.maxAbs);
}

double Moments::ExcessKurtosis() const {
  if (!(m2 > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return count * m4 / (m2 * m2) - 3.0;
}

double Moments::LaplaceScale() const {
  return count > 0 ? sumAbs / count : std::numeric_limits<double>::quiet_NaN();
}

double Moments::GaussSigma() const {
  return count > 0 ? std::sqrt(sumSq / count) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace gradquant
