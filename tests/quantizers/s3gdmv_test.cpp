// S3GD-MV against docs/quantizers.md#s3gdmv.
#include "gradquant/quantizers/s3gdmv.hpp"

#include <catch2/catch.hpp>

#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/index_coder.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/top_k_select.hpp"
#include "gradquant/random/partial_shuffle.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

std::vector<arma::fvec> Workers(std::size_t n, std::uint32_t count, std::uint64_t seed) {
  const arma::fvec common = test::GaussianSlab(n, 0.5, seed);
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < count; ++w)
    out.push_back(common + test::GaussianSlab(n, 1.0, seed + 1 + w));
  return out;
}

// signSGD-MV computed directly: sgn0 of the sum of sign(g_n) (docs/quantizers.md#sign).
arma::fvec SignMajority(const std::vector<arma::fvec>& g) {
  arma::fvec tally(g[0].n_elem, arma::fill::zeros);
  for (const auto& x : g) tally += arma::sign(x);
  return arma::sign(tally);
}

}  // namespace

TEST_CASE("S3GD-MV with K = D equals signSGD-MV (§10.21)", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({400});
  for (std::uint32_t workers : {4u, 5u}) {
    INFO(workers << " workers");
    const auto slabs = Workers(layer.n, workers, 10 * workers);
    for (const auto& s : slabs) REQUIRE(arma::all(s != 0.0f));
    const SlabContext ctx = test::Context(layer, 3, 0, workers);
    for (const char* spec : {"s3gdmv:kappa=1", "s3gdmv:k=400", "s3gdmv:k=400,select=rand"}) {
      INFO(spec);
      const auto q = BuiltinRegistry().Make(spec);
      SlabStats stats;
      const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, &stats), ctx);
      CHECK(arma::approx_equal(r.aggregate, SignMajority(slabs), "absdiff", 0.0f));
      CHECK(r.stats.at("vote_coverage") == 1.0);
      CHECK(r.stats.at("mean_votes") == Approx(workers));
      if (workers % 2 == 1) {
        // Odd N, every worker votes +-1 everywhere: no ties, o is +-1 everywhere.
        CHECK(r.stats.at("tie_frac") == 0.0);
        CHECK(arma::all(arma::abs(r.aggregate) == 1.0f));
      }
      // Enumerative uplink with K = D: D + ceil(log2 C(D, D)) = D.
      CHECK(stats.at("bits_enum") == Approx(400.0));
      CHECK(stats.at("bits_bitmap") == Approx(800.0));
    }
  }
}

TEST_CASE("S3GD-MV gives 0 to coordinates no worker chose", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({100});
  std::vector<arma::fvec> slabs = Workers(layer.n, 3, 40);
  // Every worker's top-20 lies in the first 20 coordinates.
  for (auto& s : slabs) s.head(20) += 50.0f * arma::sign(s.head(20));
  const auto q = BuiltinRegistry().Make("s3gdmv:k=20");
  const SlabContext ctx = test::Context(layer, 1, 0, 3);
  const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
  CHECK(arma::all(r.aggregate.tail(80) == 0.0f));
  CHECK(arma::all(arma::abs(r.aggregate.head(20)) == 1.0f));  // 3 votes each: no tie
  CHECK(r.stats.at("vote_coverage") == Approx(0.2));
  for (const auto& t : r.workers) CHECK(arma::accu(arma::abs(t)) == 20.0f);
}

TEST_CASE("S3GD-MV top messages: gamma-gap index set plus one sign bit each", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 5);
  const SlabContext ctx = test::Context(layer, 2, 0, 4);
  const auto q = BuiltinRegistry().Make("s3gdmv:kappa=0.05");
  SlabStats stats;
  const Message m = q->EncodeGroup({g}, ctx, &stats)[0];
  const auto chosen = TopKIndices(g.memptr(), g.n_elem, 50);
  CHECK(m.bits == IndexSetBits(chosen, layer.n, IndexCode::kGamma) + 50);
  CHECK(stats.at("selected") == 50.0);
  CHECK(stats.at("bits_naive") == 50.0 * (1 + 10));  // ceil(log2 1000) = 10
  CHECK(stats.at("bits_enum") == 50.0 + CeilLog2Binomial(1000, 50));
  CHECK(stats.at("bits_bitmap") == 1050.0);
  // The decoded worker message is sign(g) on the chosen set, 0 elsewhere.
  const arma::fvec t = q->DecodeGroup({m}, ctx).workers[0];
  arma::fvec expected(layer.n, arma::fill::zeros);
  for (auto i : chosen) expected[i] = g[i] < 0 ? -1.0f : 1.0f;
  CHECK(arma::approx_equal(t, expected, "absdiff", 0.0f));
}

TEST_CASE("S3GD-MV never spends a vote on a zero coordinate in top mode", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({50});
  arma::fvec g(layer.n, arma::fill::zeros);
  g[3] = -1.0f;
  g[40] = 2.0f;
  const auto q = BuiltinRegistry().Make("s3gdmv:k=10");
  const SlabContext ctx = test::Context(layer, 2, 0, 1);
  const auto m = q->EncodeGroup({g}, ctx, nullptr);
  const GroupResult r = q->DecodeGroup(m, ctx);
  arma::fvec expected(layer.n, arma::fill::zeros);
  expected[3] = -1.0f;
  expected[40] = 1.0f;
  CHECK(arma::approx_equal(r.workers[0], expected, "absdiff", 0.0f));
  CHECK(m[0].bits == IndexSetBits({3, 40}, layer.n, IndexCode::kGamma) + 2);
}

TEST_CASE("S3GD-MV rand mode sends K sign bits and no indices", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({300});
  const auto slabs = Workers(layer.n, 2, 70);
  const auto q = BuiltinRegistry().Make("s3gdmv:k=30,select=rand");
  const SlabContext ctx = test::Context(layer, 4, 1, 2);
  const auto m = q->EncodeGroup(slabs, ctx, nullptr);
  for (const auto& msg : m) CHECK(msg.bits == 30);
  const GroupResult r = q->DecodeGroup(m, ctx);
  for (std::uint32_t w = 0; w < 2; ++w) {
    const auto chosen = PartialShuffle(Rng(ctx.ForWorker(w).Key(), Purpose::kSelection), 300, 30);
    arma::fvec expected(layer.n, arma::fill::zeros);
    for (auto i : chosen) expected[i] = slabs[w][i] < 0 ? -1.0f : 1.0f;
    CHECK(arma::approx_equal(r.workers[w], expected, "absdiff", 0.0f));
  }
}

TEST_CASE("S3GD-MV downlink bits are a decodable stream of the vote", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({2000});
  const auto slabs = Workers(layer.n, 4, 90);
  const auto q = BuiltinRegistry().Make("s3gdmv");
  const SlabContext ctx = test::Context(layer, 8, 0, 4);
  const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
  const Message down = EncodeTernary(r.aggregate);
  CHECK(down.bits == r.downlinkBits);
  CHECK(arma::approx_equal(DecodeTernary(down, layer.n, "downlink"), r.aggregate, "absdiff", 0.0f));
  const double support = arma::accu(arma::abs(r.aggregate));
  CHECK(r.stats.at("support_frac") == Approx(support / 2000));
  CHECK(r.stats.at("downlink_bits_enum") ==
        Approx(support + CeilLog2Binomial(2000, static_cast<std::uint64_t>(support))));
}

TEST_CASE("S3GD-MV decoder rejects a worker voting on more than K coordinates", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({100});
  arma::fvec t(layer.n, arma::fill::zeros);
  t.head(11).fill(1.0f);
  const Message tooMany = EncodeTernary(t);  // the top-mode layout with 11 indices
  const auto q = BuiltinRegistry().Make("s3gdmv:k=10");
  CHECK_THROWS_AS(q->DecodeGroup({tooMany}, test::Context(layer, 1, 0, 1)), FormatError);
}

TEST_CASE("S3GD-MV budget: k, kappa with forgiving rounding, and auto = ceil(D/N)", "[s3gdmv]") {
  const auto fromSpec = [](const std::string& spec) {
    auto q = BuiltinRegistry().Make(spec);
    return dynamic_cast<const S3gdmvQuantizer&>(*q).Budget(30, 4);
  };
  CHECK(fromSpec("s3gdmv") == 8);            // ceil(30/4)
  CHECK(fromSpec("s3gdmv:kappa=0.1") == 3);  // 0.1*30 is 3.0000000000000004 in binary
  CHECK(fromSpec("s3gdmv:kappa=0.11") == 4);
  CHECK(fromSpec("s3gdmv:k=5,kappa=0.5") == 5);
  CHECK(fromSpec("s3gdmv:k=50") == 30);
}

TEST_CASE("CeilLog2Binomial is exact at whole logarithms", "[s3gdmv]") {
  CHECK(CeilLog2Binomial(1024, 1) == 10);
  CHECK(CeilLog2Binomial(1024, 1023) == 10);
  CHECK(CeilLog2Binomial(10, 5) == 8);    // C = 252
  CHECK(CeilLog2Binomial(64, 32) == 61);  // C = 1.83e18, log2 = 60.67
  CHECK(CeilLog2Binomial(1000, 0) == 0);
  CHECK(CeilLog2Binomial(1000, 1000) == 0);
}

TEST_CASE("S3GD-MV theory is the best-scalar-fit error: exact for top, the mean for rand",
          "[s3gdmv]") {
  const LayerInfo layer = test::Layer({500});
  arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 13);
  g.subvec(0, 9).zeros();  // exact zeros: rand still counts them in |S|
  const auto normSq = [](const arma::fvec& x) {
    return arma::accu(arma::square(arma::conv_to<arma::vec>::from(x)));
  };
  const auto fitError = [&](const arma::fvec& o) {
    const double dot =
        arma::dot(arma::conv_to<arma::vec>::from(o), arma::conv_to<arma::vec>::from(g));
    return normSq(g) - dot * dot / normSq(o);
  };
  const auto top = BuiltinRegistry().Make("s3gdmv:k=60");
  const SlabContext ctx = test::Context(layer, 6, 0, 1);
  const arma::fvec o = top->DecodeGroup(top->EncodeGroup({g}, ctx, nullptr), ctx).workers[0];
  CHECK(top->ExpectedError(g, ctx).exact == Approx(fitError(o)).epsilon(1e-9));

  const auto rnd = BuiltinRegistry().Make("s3gdmv:k=60,select=rand");
  const double theory = rnd->ExpectedError(g, ctx).exact;
  const int trials = 2000;
  double sum = 0.0, sumSq = 0.0;
  for (int t = 0; t < trials; ++t) {
    const SlabContext c = test::Context(layer, 1000 + t, 0, 1);
    const double e = fitError(rnd->DecodeGroup(rnd->EncodeGroup({g}, c, nullptr), c).workers[0]);
    sum += e;
    sumSq += e * e;
  }
  const double mean = sum / trials;
  const double se = std::sqrt((sumSq / trials - mean * mean) / trials);
  CHECK(std::fabs(mean - theory) < 5 * se);  // SE from the trials: about 0.28 on 779 (0.04 %)
}

TEST_CASE("S3GD-MV sign agreement is |mean|-weighted on the support", "[s3gdmv]") {
  const LayerInfo layer = test::Layer({4});
  const auto q = BuiltinRegistry().Make("s3gdmv:k=4");
  // One worker: o = sign(g) everywhere, mean = g: full agreement.
  const std::vector<arma::fvec> one = {{1.0f, -2.0f, 3.0f, -4.0f}};
  const SlabContext ctx = test::Context(layer, 1, 0, 1);
  SlabStats stats;
  const GroupResult r = q->DecodeGroup(q->EncodeGroup(one, ctx, nullptr), ctx);
  q->Diagnose(one, r, ctx, &stats);
  CHECK(stats.at("sign_agree") == 1.0);
  // Against a different truth: o = (+, -, +, -), mean = (1, 2, -3, -4): agree on 0 and 3.
  const std::vector<arma::fvec> other = {{1.0f, 2.0f, -3.0f, -4.0f}};
  q->Diagnose(other, r, ctx, &stats);
  CHECK(stats.at("sign_agree") == Approx(5.0 / 10.0));
  CHECK(stats.at("sign_agree_raw") == Approx(0.5));
}

}  // namespace gradquant
