// Top-K and Random-K selection (quantizers/top_k.hpp) and the majority vote (majority_vote.hpp).
#include "gradquant/quantizers/top_k.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "gradquant/quantizers/majority_vote.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// Reference: a full stable sort by decreasing magnitude keeps lower indices first among ties.
std::vector<std::uint64_t> SortedTopK(const arma::fvec& g, std::size_t k) {
  std::vector<std::uint64_t> idx(g.n_elem);
  std::iota(idx.begin(), idx.end(), std::uint64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](std::uint64_t a, std::uint64_t b) {
    return std::fabs(g[a]) > std::fabs(g[b]);
  });
  idx.resize(std::min<std::size_t>(k, g.n_elem));
  std::sort(idx.begin(), idx.end());
  return idx;
}

}  // namespace

TEST_CASE("TopKIndices matches a full stable sort, ties by lower index", "[topk]") {
  // Few distinct magnitudes, both signs: ties everywhere.
  arma::fvec g = arma::round(test::LaplaceSlab(500, 2.0, 8));
  for (std::size_t k : {0, 1, 2, 7, 100, 250, 499, 500, 800}) {
    INFO("k = " << k);
    CHECK(TopKIndices(g.memptr(), g.n_elem, k) == SortedTopK(g, k));
  }
  const float tie[] = {1.0f, -1.0f, 1.0f, 0.5f};
  CHECK(TopKIndices(tie, 4, 2) == std::vector<std::uint64_t>{0, 1});
  CHECK(TopKIndices(tie, 4, 3) == std::vector<std::uint64_t>{0, 1, 2});
}

TEST_CASE("TopKIndices ranks NaN last and CountNonzero skips zeros and NaN", "[topk]") {
  const float g[] = {0.0f, std::nanf(""), -2.0f, 0.5f, 0.0f};
  CHECK(TopKIndices(g, 5, 2) == std::vector<std::uint64_t>{2, 3});
  CHECK(TopKIndices(g, 5, 4) == std::vector<std::uint64_t>{0, 2, 3, 4});
  CHECK(CountNonzero(g, 5) == 2);
}

TEST_CASE("RandomKIndices is the §0.3 partial Fisher-Yates shuffle", "[topk]") {
  const Rng rng({77, 3, 1, 2}, Purpose::kSelection);
  const std::size_t n = 50, k = 12;
  std::vector<std::uint64_t> idx(n);
  std::iota(idx.begin(), idx.end(), std::uint64_t{0});
  for (std::size_t j = 0; j < k; ++j) {
    const auto t = j + static_cast<std::size_t>(std::floor(rng.Uniform(j) * double(n - j)));
    std::swap(idx[j], idx[t]);
  }
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
  CHECK(RandomKIndices(rng, n, k) == idx);
  CHECK(RandomKIndices(rng, n, 0).empty());
  CHECK(RandomKIndices(rng, 5, 9).size() == 5);
}

TEST_CASE("RandomKIndices includes each index with probability k/n", "[topk]") {
  const std::size_t n = 20, k = 5, trials = 4000;
  std::vector<double> hits(n, 0.0);
  for (std::uint64_t t = 0; t < trials; ++t) {
    for (auto i : RandomKIndices(Rng({t, 0, 0, 0}, Purpose::kSelection), n, k)) hits[i] += 1;
  }
  // Binomial(4000, 1/4) per index: SE = sqrt(4000 * 0.25 * 0.75) = 27.4; 5 SE = 137.
  for (double h : hits) CHECK(std::fabs(h - 1000.0) < 137.0);
}

TEST_CASE("Majority vote: sgn0 of the tally, ties and unvoted coordinates give 0", "[vote]") {
  const std::vector<arma::fvec> votes = {
      {1, 1, 0, -1, 0, 1}, {1, -1, 0, -1, 0, -1}, {-1, 0, 0, 1, 0, 0}};
  VoteCounts counts;
  const arma::fvec o = MajorityVote(votes, &counts);
  CHECK(arma::approx_equal(o, arma::fvec{1, 0, 0, -1, 0, 0}, "absdiff", 0.0f));
  CHECK(counts.voted == 4);    // coordinates 0, 1, 3, 5
  CHECK(counts.ties == 2);     // coordinates 1 and 5
  CHECK(counts.support == 2);  // coordinates 0 and 3
  CHECK(counts.votes == 10);
  CHECK_THROWS_AS(MajorityVote({{1, 0}, {1}}), std::invalid_argument);
  CHECK_THROWS_AS(MajorityVote({}), std::invalid_argument);
}

TEST_CASE("Majority vote with odd N and full +-1 votes never ties", "[vote]") {
  std::vector<arma::fvec> votes;
  for (std::uint64_t w = 0; w < 5; ++w)
    votes.push_back(arma::sign(test::GaussianSlab(300, 1.0, w)));
  VoteCounts counts;
  const arma::fvec o = MajorityVote(votes, &counts);
  CHECK(counts.ties == 0);
  CHECK(counts.support == 300);
  CHECK(arma::all(arma::abs(o) == 1.0f));
}

}  // namespace gradquant
