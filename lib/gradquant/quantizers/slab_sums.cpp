#include "gradquant/quantizers/slab_sums.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kLanes = 8;
constexpr std::size_t kCertifyMin = 4096;                // below this the plain loop is cheap
constexpr std::size_t kSumChunk = std::size_t{1} << 20;  // coordinates per parallel chunk

// Σ g_i² (square = true) or Σ |g_i| in double, in lanes: the fixed order of
// SumSquaresFixedOrder, and for the certified sums any order (see the file comment).
// Inlined into the two multiversioned entry points below (clang cannot multiversion a template).
template <bool kSquare>
inline __attribute__((always_inline)) double SumLanes(const float* g, std::size_t n) {
  double lane[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const double x = static_cast<double>(g[i + j]);
      lane[j] += kSquare ? x * x : std::fabs(x);
    }
  }
  double sum = 0.0;
  for (; i < n; ++i) {
    const double x = static_cast<double>(g[i]);
    sum += kSquare ? x * x : std::fabs(x);
  }
  for (double x : lane) sum += x;
  return sum;
}

__attribute__((target_clones("avx2", "default"))) double SumSquareLanes(const float* g,
                                                                        std::size_t n) {
  return SumLanes<true>(g, n);
}

__attribute__((target_clones("avx2", "default"))) double SumAbsLanes(const float* g,
                                                                     std::size_t n) {
  return SumLanes<false>(g, n);
}

template <bool kSquare>
double SumAnyOrder(const float* g, std::size_t n) {
  const std::size_t chunks = (n + kSumChunk - 1) / kSumChunk;
  std::vector<double> part(chunks, 0.0);
  SplitFor(chunks, [&](std::size_t c) {
    const std::size_t b = c * kSumChunk;
    const std::size_t len = std::min(kSumChunk, n - b);
    part[c] = kSquare ? SumSquareLanes(g + b, len) : SumAbsLanes(g + b, len);
  });
  double sum = 0.0;
  for (double x : part) sum += x;
  return sum;
}

// The interval the in-order sum of n non-negative terms lies in, given any-order sum `fast`.
void Bracket(double fast, std::size_t n, double* lo, double* hi) {
  const double e = 2.01 * static_cast<double>(n) * 0x1p-53 * fast;
  *lo = std::max(0.0, fast - e);
  *hi = fast + e;
}

}  // namespace

float MaxAbs(const float* g, std::size_t n) {
  const std::size_t chunks = (n + kSumChunk - 1) / kSumChunk;
  if (chunks <= 1) return kernels::MaxAbs(g, n, 0.0f);
  std::vector<float> part(chunks, 0.0f);
  SplitFor(chunks, [&](std::size_t c) {
    const std::size_t b = c * kSumChunk;
    part[c] = kernels::MaxAbs(g + b, std::min(kSumChunk, n - b), 0.0f);
  });
  float m = 0.0f;
  for (float x : part) m = std::max(m, x);
  return m;
}

double SumSquaresFixedOrder(const float* g, std::size_t n) { return SumAnyOrder<true>(g, n); }

double SumAbsFixedOrder(const float* g, std::size_t n) { return SumAnyOrder<false>(g, n); }

double SumSquaresInOrder(const float* g, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
  return sum;
}

double SumAbsInOrder(const float* g, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(g[i]));
  return sum;
}

float RoundedUpNorm2(const float* g, std::size_t n) {
  if (n >= kCertifyMin) {
    double lo, hi;
    Bracket(SumAnyOrder<true>(g, n), n, &lo, &hi);
    const float a = RoundUpToFloat(std::sqrt(lo)), b = RoundUpToFloat(std::sqrt(hi));
    if (a == b) return a;
  }
  return RoundUpToFloat(std::sqrt(SumSquaresInOrder(g, n)));
}

float MeanAbsToFloat(const float* g, std::size_t n) {
  if (n == 0) return 0.0f;
  const double count = static_cast<double>(n);
  if (n >= kCertifyMin) {
    double lo, hi;
    Bracket(SumAnyOrder<false>(g, n), n, &lo, &hi);
    const float a = static_cast<float>(lo / count), b = static_cast<float>(hi / count);
    if (a == b) return a;
  }
  return static_cast<float>(SumAbsInOrder(g, n) / count);
}

}  // namespace gradquant
