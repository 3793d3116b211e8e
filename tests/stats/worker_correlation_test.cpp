// stats/worker_correlation: Pearson matrix, merging, correlation with the mean of the others.
#include "gradquant/stats/worker_correlation.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace gradquant {
namespace {

double PearsonDirect(const arma::fvec& a, const arma::fvec& b) {
  const arma::vec x = arma::conv_to<arma::vec>::from(a), y = arma::conv_to<arma::vec>::from(b);
  return arma::as_scalar(arma::cor(x, y));
}

std::vector<arma::fvec> Workers(std::size_t n, std::uint64_t seed, float offset) {
  std::vector<arma::fvec> out;
  const arma::fvec common = test::GaussianSlab(n, 1.0, seed);
  for (std::uint64_t w = 0; w < 3; ++w) {
    out.push_back(common * 0.7f + test::LaplaceSlab(n, 1.0, seed + 1 + w) + offset * (w + 1.0f));
  }
  return out;
}

}  // namespace

TEST_CASE("Pearson matrix and correlation with the others match direct formulas", "[stats]") {
  const auto slabs = Workers(2000, 100, 0.0f);
  const CoMoments co = CoMoments::Of(slabs);
  const arma::mat r = co.Pearson();
  for (std::size_t a = 0; a < 3; ++a) {
    CHECK(r(a, a) == Approx(1.0));
    for (std::size_t b = 0; b < 3; ++b) {
      CHECK(r(a, b) == Approx(PearsonDirect(slabs[a], slabs[b])).epsilon(1e-9));
    }
  }
  const arma::vec others = co.CorrWithOthers();
  for (std::size_t w = 0; w < 3; ++w) {
    arma::fvec rest(2000, arma::fill::zeros);
    for (std::size_t k = 0; k < 3; ++k) {
      if (k != w) rest += slabs[k] / 2.0f;
    }
    CHECK(others[w] == Approx(PearsonDirect(slabs[w], rest)).epsilon(1e-5));
  }
  const OffDiagonal off = SummarizeOffDiagonal(r);
  CHECK(off.min <= off.mean);
  CHECK(off.mean <= off.max);
  CHECK(off.max < 1.0);
}

TEST_CASE("Merged co-moments equal those of the concatenated slabs", "[stats]") {
  const auto a = Workers(500, 200, 0.0f), b = Workers(1300, 300, 4.0f);
  CoMoments merged = CoMoments::Of(a);
  merged.Merge(CoMoments::Of(b));
  std::vector<arma::fvec> joined;
  for (std::size_t w = 0; w < 3; ++w) joined.push_back(arma::join_cols(a[w], b[w]));
  const CoMoments ref = CoMoments::Of(joined);
  CHECK(merged.count == ref.count);
  CHECK(arma::approx_equal(merged.c, ref.c, "reldiff", 1e-9));
  CHECK(arma::approx_equal(merged.mean, ref.mean, "absdiff", 1e-9));
}

TEST_CASE("Constant workers and a single worker give NaN, not a crash", "[stats]") {
  std::vector<arma::fvec> slabs = {test::GaussianSlab(50, 1.0, 1),
                                   arma::fvec(50, arma::fill::ones)};
  const arma::mat r = CoMoments::Of(slabs).Pearson();
  CHECK(std::isnan(r(0, 1)));
  CHECK(std::isnan(r(1, 1)));
  CHECK(std::isnan(SummarizeOffDiagonal(r).mean));
  const CoMoments one = CoMoments::Of({test::GaussianSlab(50, 1.0, 2)});
  CHECK(std::isnan(one.CorrWithOthers()[0]));
  CHECK(std::isnan(SummarizeOffDiagonal(one.Pearson()).max));
}

}  // namespace gradquant
