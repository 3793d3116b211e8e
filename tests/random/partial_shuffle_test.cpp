// The sparse partial Fisher–Yates shuffle of random/partial_shuffle.hpp
// (docs/quantizers.md#shared-randomness).
#include "gradquant/random/partial_shuffle.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <set>

namespace gradquant {

TEST_CASE("PartialShuffle equals the dense Fisher-Yates of §0.3", "[random][randk]") {
  for (std::size_t n : {1, 2, 7, 100, 1000}) {
    for (std::size_t k : {std::size_t{0}, std::size_t{1}, n / 3, n}) {
      const Rng rng({11, n, static_cast<std::uint32_t>(k), 2}, Purpose::kSelection);
      std::vector<std::size_t> idx(n);
      std::iota(idx.begin(), idx.end(), 0);
      for (std::size_t j = 0; j < k; ++j) {
        const std::size_t t = j + static_cast<std::size_t>(rng.Uniform(j) * (n - j));
        std::swap(idx[j], idx[t]);
      }
      idx.resize(k);
      INFO("n " << n << " k " << k);
      CHECK(PartialShuffle(rng, n, k) == idx);
    }
  }
}

TEST_CASE("PartialShuffle gives K distinct indices in range", "[random][randk]") {
  for (std::size_t n : {1, 5, 1000, 1000000}) {
    for (std::size_t k : {std::size_t{1}, std::min<std::size_t>(n, 3), n / 2, n}) {
      if (n > 100000 && k > 1000) continue;  // the big universe only with small K: O(K) work
      const auto s = PartialShuffle(Rng({4, n, 0, 0}, Purpose::kSelection), n, k);
      REQUIRE(s.size() == k);
      CHECK(std::set<std::size_t>(s.begin(), s.end()).size() == k);
      CHECK(std::all_of(s.begin(), s.end(), [n](std::size_t i) { return i < n; }));
    }
  }
}

TEST_CASE("Every index is included with probability K/D", "[random][randk][slow]") {
  const std::size_t n = 50, k = 10, trials = 20000;
  std::vector<double> count(n, 0.0);
  std::vector<double> first(n, 0.0);  // the first draw alone is uniform on {0..n-1}
  for (std::size_t t = 0; t < trials; ++t) {
    const auto s = PartialShuffle(Rng({99, t, 0, 0}, Purpose::kSelection), n, k);
    for (std::size_t i : s) count[i] += 1.0;
    first[s[0]] += 1.0;
  }
  // Inclusion count ~ Binomial(20000, 0.2): mean 4000, SE 56.6; 5 SE = 283.
  const double p = static_cast<double>(k) / n;
  const double se = std::sqrt(trials * p * (1 - p));
  const double seFirst = std::sqrt(trials * (1.0 / n) * (1 - 1.0 / n));  // 19.8 around 400
  for (std::size_t i = 0; i < n; ++i) {
    INFO("index " << i);
    CHECK(std::fabs(count[i] - trials * p) < 5 * se);
    CHECK(std::fabs(first[i] - trials / static_cast<double>(n)) < 5 * seFirst);
  }
}

}  // namespace gradquant
