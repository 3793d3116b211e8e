// Top-K against docs/quantizers.md#topk, plus its index coding and downlink.
#include <algorithm>
#include <catch2/catch.hpp>
#include <numeric>

#include "gradquant/coding/index_coder.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/top_k_select.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

double ErrSq(const arma::fvec& a, const arma::fvec& b) {
  return arma::accu(
      arma::square(arma::conv_to<arma::vec>::from(a) - arma::conv_to<arma::vec>::from(b)));
}

// Reference selection: sort every index by (|g| desc, index asc), keep the first k nonzeros.
std::vector<std::size_t> ReferenceTopK(const arma::fvec& g, std::size_t k) {
  std::vector<std::size_t> idx(g.n_elem);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return std::fabs(g[a]) > std::fabs(g[b]); });
  std::vector<std::size_t> out;
  for (std::size_t i : idx) {
    if (out.size() < k && g[i] != 0.0f) out.push_back(i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("TopKIndices picks the largest magnitudes, ties by lower index", "[topk]") {
  const arma::fvec ties = {1.0f, -1.0f, 1.0f, 0.5f, -1.0f};
  CHECK(TopKIndices(ties.memptr(), ties.n_elem, 2) == std::vector<std::size_t>{0, 1});
  CHECK(TopKIndices(ties.memptr(), ties.n_elem, 3) == std::vector<std::size_t>{0, 1, 2});
  CHECK(TopKIndices(ties.memptr(), ties.n_elem, 0).empty());
  const arma::fvec sparse = {0.0f, 2.0f, 0.0f, -3.0f};  // fewer nonzeros than K: only those
  CHECK(TopKIndices(sparse.memptr(), sparse.n_elem, 3) == std::vector<std::size_t>{1, 3});
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    arma::fvec g = test::LaplaceSlab(300, 1.0, seed);
    // Quantise to create many exact ties.
    g = arma::round(g * 2.0f) / 2.0f;
    for (std::size_t k : {1, 7, 50, 299, 300}) {
      CHECK(TopKIndices(g.memptr(), g.n_elem, k) == ReferenceTopK(g, k));
    }
  }
}

TEST_CASE("Top-K error is exactly ||g||^2 - sum_top g_i^2 <= (1 - K/D)||g||^2", "[topk]") {
  const LayerInfo layer = test::Layer({1000});
  const auto ctx = test::Context(layer, 3);
  for (const char* spec :
       {"topk:kappa=0.01", "topk:kappa=0.1", "topk:k=333,index=rice", "topk:kappa=0.5"}) {
    const auto q = BuiltinRegistry().Make(spec);
    for (std::uint64_t seed : {1, 2, 3}) {
      INFO(spec << " seed " << seed);
      const arma::fvec g = test::LaplaceSlab(1000, 1.0, seed);
      const GroupResult r = q->DecodeGroup(q->EncodeGroup({g}, ctx, nullptr), ctx);
      const double err = ErrSq(r.workers[0], g);
      const Theory t = q->ExpectedError(g, ctx);
      CHECK(std::string(t.Kind()) == "exact");
      CHECK(err == Approx(t.exact).epsilon(1e-9));
      CHECK(err <= t.bound);
      // The kept coordinates are the input values themselves.
      const arma::uvec kept = arma::find(r.workers[0] != 0.0f);
      CHECK(arma::approx_equal(r.workers[0](kept), g(kept), "absdiff", 0.0f));
    }
  }
}

TEST_CASE("Top-K with K = D is lossless", "[topk]") {
  const LayerInfo layer = test::Layer({257});
  const auto ctx = test::Context(layer, 1);
  const arma::fvec g = test::GaussianSlab(257, 1.0, 4);
  for (const char* spec : {"topk:kappa=1", "topk:k=257", "topk:k=100000"}) {
    const auto q = BuiltinRegistry().Make(spec);
    const auto m = q->EncodeGroup({g}, ctx, nullptr);
    const GroupResult r = q->DecodeGroup(m, ctx);
    CHECK(ErrSq(r.workers[0], g) == 0.0);
    CHECK(q->ExpectedError(g, ctx).exact == 0.0);
    // Every gap is 1 (one bit): gamma(D+1) + D + 32D.
    CHECK(m[0].bits == static_cast<std::uint64_t>(17 + 257 + 32 * 257));
  }
}

TEST_CASE("Top-K and Random-K both reject kappa = 0 and keep at least one coordinate",
          "[topk][randk][spec]") {
  for (const char* spec : {"topk:kappa=0", "randk:kappa=0", "topk:kappa=-0.1", "randk:kappa=1.5"}) {
    INFO(spec);
    CHECK_THROWS_AS(BuiltinRegistry().Make(spec), SpecError);
  }
  const LayerInfo layer = test::Layer({1000});
  const auto ctx = test::Context(layer, 1);
  const arma::fvec g = test::GaussianSlab(1000, 1.0, 5);
  // kappa * n = 1e-6: K = 1 for both, i.e. 32 bits for Random-K and gamma(2) + gamma(gap) + 32
  // for Top-K (one value either way).
  for (const char* spec : {"topk:kappa=1e-9", "randk:kappa=1e-9"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const GroupResult r = q->DecodeGroup(q->EncodeGroup({g}, ctx, nullptr), ctx);
    CHECK(arma::accu(r.workers[0] != 0.0f) == 1);
  }
}

TEST_CASE("Top-K K = ceil(kappa n), bits = index code + 32K, index stats", "[topk]") {
  const LayerInfo layer = test::Layer({100});
  const auto ctx = test::Context(layer, 1);
  const arma::fvec g = test::LaplaceSlab(100, 1.0, 9);
  const auto count = [&](const std::string& spec) {
    const auto q = BuiltinRegistry().Make(spec);
    return arma::accu(q->DecodeGroup(q->EncodeGroup({g}, ctx, nullptr), ctx).workers[0] != 0.0f);
  };
  CHECK(count("topk:kappa=0.07") == 7);  // 0.07*100 = 7.000000000000001 in double
  CHECK(count("topk:kappa=0.071") == 8);
  CHECK(count("topk:kappa=0.01") == 1);
  CHECK(count("topk:k=5,kappa=0.5") == 5);  // k overrides kappa

  for (const char* spec : {"topk:k=10", "topk:k=10,index=rice"}) {
    const auto q = BuiltinRegistry().Make(spec);
    SlabStats stats;
    const Message m = q->EncodeGroup({g}, ctx, &stats)[0];
    const auto sel = TopKIndices(g.memptr(), g.n_elem, 10);
    const IndexCode code =
        std::string(spec).find("rice") != std::string::npos ? IndexCode::kRice : IndexCode::kGamma;
    CHECK(m.bits == IndexSetBits(sel, 100, code) + 320);
    CHECK(stats["bits_index"] == IndexSetBits(sel, 100, code));
    CHECK(stats["bits_ideal_index"] == Approx(std::log2(17310309456440.0)));  // C(100, 10)
    CHECK(stats["bits_naive_index"] == 70);
  }
  // Single-element layer: kappa = 0.01 still keeps one value.
  const LayerInfo one = test::Layer({1});
  const arma::fvec x = {-2.5f};
  const auto q = BuiltinRegistry().Make("topk");
  const auto c1 = test::Context(one, 1);
  CHECK(q->DecodeGroup(q->EncodeGroup({x}, c1, nullptr), c1).workers[0][0] == -2.5f);
}

TEST_CASE("Top-K server averages the sparse vectors and codes the union support", "[topk]") {
  const LayerInfo layer = test::Layer({20});
  const auto ctx = test::Context(layer, 1, 0, 2);
  arma::fvec a(20, arma::fill::zeros), b(20, arma::fill::zeros);
  a[0] = 5;
  a[3] = -4;
  a[19] = 3;  // top-2: {0, 3}
  b[3] = 2;
  b[7] = -6;
  b[1] = 0.5f;  // top-2: {3, 7}
  const auto q = BuiltinRegistry().Make("topk:k=2");
  const GroupResult r = q->DecodeGroup(q->EncodeGroup({a, b}, ctx, nullptr), ctx);
  arma::fvec expected(20, arma::fill::zeros);
  expected[0] = 2.5f;
  expected[3] = -1.0f;
  expected[7] = -3.0f;
  CHECK(arma::approx_equal(r.aggregate, expected, "absdiff", 0.0f));
  CHECK(r.downlinkBits == IndexSetBits({0, 3, 7}, 20, IndexCode::kGamma) + 3 * 32);
  CHECK(r.stats.at("union_frac") == Approx(3.0 / 20));
}

TEST_CASE("Top-K rejects a message with more than K indices", "[topk]") {
  const LayerInfo layer = test::Layer({50});
  const auto ctx = test::Context(layer, 1);
  const arma::fvec g = test::LaplaceSlab(50, 1.0, 2);
  const auto big = BuiltinRegistry().Make("topk:k=5");
  const auto small = BuiltinRegistry().Make("topk:k=4");
  CHECK_THROWS_AS(small->DecodeGroup(big->EncodeGroup({g}, ctx, nullptr), ctx), FormatError);
}

}  // namespace gradquant
