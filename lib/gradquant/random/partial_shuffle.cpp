#include "gradquant/random/partial_shuffle.hpp"

#include <algorithm>
#include <cassert>
#include <unordered_map>

namespace gradquant {

std::vector<std::size_t> PartialShuffle(const Rng& rng, std::size_t n, std::size_t k) {
  assert(k <= n);
  // moved[p] is the value now at position p, for the positions a swap has touched; any other
  // position p still holds p. Position j is never read again after step j, so it is not stored.
  std::unordered_map<std::size_t, std::size_t> moved;
  moved.reserve(k);
  auto at = [&moved](std::size_t p) {
    const auto it = moved.find(p);
    return it == moved.end() ? p : it->second;
  };
  std::vector<std::size_t> out(k);
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t span = n - j;
    // U < 1 keeps the product below span in exact arithmetic; the min guards the rounding.
    const auto offset = static_cast<std::size_t>(rng.Uniform(j) * static_cast<double>(span));
    const std::size_t t = j + std::min(offset, span - 1);
    const std::size_t atJ = at(j);
    out[j] = at(t);
    moved[t] = atJ;
  }
  return out;
}

}  // namespace gradquant
