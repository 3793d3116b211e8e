#include "gradquant/quantizers/top_k_select.hpp"

#include <algorithm>
#include <cmath>

namespace gradquant {

std::vector<std::size_t> TopKIndices(const float* g, std::size_t n, std::size_t k) {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < n; ++i) {
    if (g[i] != 0.0f) candidates.push_back(i);
  }
  if (k < candidates.size()) {
    // Larger magnitude first; equal magnitudes by lower index: a strict total order.
    const auto before = [g](std::size_t a, std::size_t b) {
      const float fa = std::fabs(g[a]), fb = std::fabs(g[b]);
      return fa > fb || (fa == fb && a < b);
    };
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(k),
                     candidates.end(), before);
    candidates.resize(k);
    std::sort(candidates.begin(), candidates.end());
  }
  return candidates;
}

}  // namespace gradquant
