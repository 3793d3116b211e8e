#include "gradquant/quantizers/top_k.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace gradquant {
namespace {

// Magnitude key with NaN mapped below every number, so that the comparator below is a strict
// weak order for any input (nth_element's precondition).
float Key(float x) { return std::isnan(x) ? -1.0f : std::fabs(x); }

}  // namespace

std::vector<std::uint64_t> TopKIndices(const float* g, std::size_t n, std::size_t k) {
  k = std::min(k, n);
  std::vector<std::uint64_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::uint64_t{0});
  if (k == 0) return {};
  if (k < n) {
    // "a ranks before b": larger magnitude, or equal magnitude and lower index.
    const auto before = [g](std::uint64_t a, std::uint64_t b) {
      const float ka = Key(g[a]), kb = Key(g[b]);
      return ka > kb || (ka == kb && a < b);
    };
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k - 1), idx.end(),
                     before);
    idx.resize(k);
    std::sort(idx.begin(), idx.end());
  }
  return idx;
}

std::size_t CountNonzero(const float* g, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += std::fabs(g[i]) > 0.0f ? 1 : 0;
  return count;
}

std::vector<std::uint64_t> RandomKIndices(const Rng& rng, std::size_t n, std::size_t k) {
  k = std::min(k, n);
  std::vector<std::uint64_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::uint64_t{0});
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t span = n - j;
    // floor(U * span) < span for span < 2^53; the min guards the rounding corner anyway.
    const auto offset = std::min(
        static_cast<std::size_t>(std::floor(rng.Uniform(j) * static_cast<double>(span))), span - 1);
    std::swap(idx[j], idx[j + offset]);
  }
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace gradquant
