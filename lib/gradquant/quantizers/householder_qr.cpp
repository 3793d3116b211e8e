#include "gradquant/quantizers/householder_qr.hpp"

#include <cassert>
#include <cmath>

namespace gradquant {

std::vector<double> HouseholderQ(std::vector<double> a, std::size_t n, std::size_t r) {
  assert(r <= n && a.size() == n * r);
  // vs[k] holds the unit reflector v_k on rows k..n-1 (empty when H_k = I).
  std::vector<std::vector<double>> vs(r);
  for (std::size_t k = 0; k < r; ++k) {
    double normSq = 0.0;
    for (std::size_t i = k; i < n; ++i) normSq += a[i * r + k] * a[i * r + k];
    if (normSq == 0.0) continue;
    const double x0 = a[k * r + k];
    const double alpha = x0 >= 0.0 ? -std::sqrt(normSq) : std::sqrt(normSq);
    std::vector<double> v(n - k);
    for (std::size_t i = k; i < n; ++i) v[i - k] = a[i * r + k];
    v[0] = x0 - alpha;  // no cancellation: x0 and −alpha have the same sign
    double vNormSq = 0.0;
    for (double x : v) vNormSq += x * x;
    const double vNorm = std::sqrt(vNormSq);
    for (double& x : v) x /= vNorm;
    // A[k:, k:] -= 2 v (v^T A[k:, k:]).
    for (std::size_t c = k; c < r; ++c) {
      double dot = 0.0;
      for (std::size_t i = k; i < n; ++i) dot += v[i - k] * a[i * r + c];
      for (std::size_t i = k; i < n; ++i) a[i * r + c] -= 2.0 * dot * v[i - k];
    }
    vs[k] = std::move(v);
  }
  // Q = H_0 H_1 ... H_{r-1} I[:, :r], applied from the last reflector to the first.
  std::vector<double> q(n * r, 0.0);
  for (std::size_t c = 0; c < r; ++c) q[c * r + c] = 1.0;
  for (std::size_t k = r; k-- > 0;) {
    const std::vector<double>& v = vs[k];
    if (v.empty()) continue;
    for (std::size_t c = 0; c < r; ++c) {
      double dot = 0.0;
      for (std::size_t i = k; i < n; ++i) dot += v[i - k] * q[i * r + c];
      for (std::size_t i = k; i < n; ++i) q[i * r + c] -= 2.0 * dot * v[i - k];
    }
  }
  return q;
}

}  // namespace gradquant
