// stats/worker_agreement: sign agreement with the mean and Top-K overlap.
#include "gradquant/stats/worker_agreement.hpp"

#include <algorithm>
#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace gradquant {

TEST_CASE("Sign agreement of a hand example, raw and |mean|-weighted", "[stats]") {
  // Mean = (2, -0.5, 0): signs +, -, + (sign(0) = +1).
  const std::vector<arma::fvec> slabs = {{3.0f, 1.0f, -1.0f}, {1.0f, -2.0f, 1.0f}};
  const SignAgreement s = SignAgreement::Of(slabs);
  // Agreeing (worker, coordinate) pairs: (0,0), (1,0), (1,1), (1,2): 4 of 6.
  CHECK(s.Raw() == Approx(4.0 / 6));
  // Weights |mean| = 2, 0.5, 0 per pair: agree 2+2+0.5+0 = 4.5 of 2*(2+0.5+0) = 5.
  CHECK(s.Weighted() == Approx(4.5 / 5));
  SignAgreement twice = s;
  twice.Merge(s);
  CHECK(twice.Raw() == Approx(s.Raw()));
  CHECK(twice.pairs == 12);
}

TEST_CASE("Top-K: K is 1 % of n, at least 1; ties go to the lower index", "[stats]") {
  CHECK(TopKCount(0) == 0);
  CHECK(TopKCount(8) == 1);
  CHECK(TopKCount(100) == 1);
  CHECK(TopKCount(101) == 2);
  CHECK(TopKCount(25600) == 256);
  const arma::fvec g = {0.5f, -2.0f, 2.0f, 1.0f, -2.0f};
  CHECK(LargestMagnitudes(g, 2) == std::vector<std::size_t>{1, 2});
  CHECK(LargestMagnitudes(g, 9).size() == 5);
  CHECK(LargestMagnitudes(g, 0).empty());
}

TEST_CASE("Top-K indices equal a full sort by (|g| descending, index ascending)", "[stats]") {
  // Rounded Laplace values: many ties at the K-th magnitude, of both signs.
  arma::fvec g = test::LaplaceSlab(50000, 1.0, 41);
  g = arma::round(g * 8) / 8;
  std::vector<std::size_t> order(g.n_elem);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const float fa = std::fabs(g[a]), fb = std::fabs(g[b]);
    return fa != fb ? fa > fb : a < b;
  });
  for (std::size_t k :
       {std::size_t{1}, std::size_t{500}, std::size_t{4321}, static_cast<std::size_t>(g.n_elem)}) {
    std::vector<std::size_t> expected(order.begin(),
                                      order.begin() + static_cast<std::ptrdiff_t>(k));
    std::sort(expected.begin(), expected.end());
    INFO("k " << k);
    CHECK(LargestMagnitudes(g, k) == expected);
  }
}

TEST_CASE("Top-K Jaccard: 1 for identical workers, a hand value, NaN for one worker", "[stats]") {
  const arma::fvec a = {5, 4, 3, 0, 0, 0}, b = {5, 0, 0, 4, 3, 0};
  CHECK(TopKJaccard({a, a, a}, 3) == 1.0);
  // Top-3 sets {0,1,2} and {0,3,4}: |∩| = 1, |∪| = 5.
  CHECK(TopKJaccard({a, b}, 3) == Approx(0.2));
  CHECK(std::isnan(TopKJaccard({a}, 3)));
  // Independent workers: E|∩| = K^2/n, so J ≈ (K/n)/(2 - K/n) = 0.005 for K = n/100.
  std::vector<arma::fvec> ind;
  for (int w = 0; w < 4; ++w) ind.push_back(test::GaussianSlab(20000, 1.0, 40 + w));
  CHECK(TopKJaccard(ind, TopKCount(20000)) < 0.02);
}

}  // namespace gradquant
