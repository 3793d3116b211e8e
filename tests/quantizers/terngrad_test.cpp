// TernGrad against docs/quantizers.md#terngrad.
#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/trits.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

Message EncodeOne(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx) {
  return q.EncodeGroup({g}, ctx, nullptr)[0];
}

arma::fvec DecodeOne(const Quantizer& q, const Message& m, const SlabContext& ctx) {
  return q.DecodeGroup({m}, ctx).workers[0];
}

double SquaredError(const arma::fvec& a, const arma::fvec& b) {
  return arma::accu(
      arma::square(arma::conv_to<arma::vec>::from(a) - arma::conv_to<arma::vec>::from(b)));
}

/** Mean and standard error of per-trial squared errors. */
struct Sample {
  double sum = 0, sumSq = 0;
  int n = 0;
  void Add(double x) { sum += x, sumSq += x * x, ++n; }
  double Mean() const { return sum / n; }
  double Se() const { return std::sqrt((sumSq / n - Mean() * Mean()) / n); }
};

}  // namespace

TEST_CASE("TernGrad on (1, -0.5, 0.25, 0) has E||g~ - g||^2 = 0.4375; zero stays zero",
          "[terngrad]") {
  const auto q = BuiltinRegistry().Make("terngrad");
  const LayerInfo layer = test::Layer({4});
  const arma::fvec g = {1.0f, -0.5f, 0.25f, 0.0f};
  const Theory theory = q->ExpectedError(g, test::Context(layer, 0));
  CHECK(theory.exact == Approx(0.4375));  // s||g||_1 - ||g||^2 = 1.75 - 1.3125
  CHECK(theory.bound == Approx(1.3125));  // (sqrt(4) - 1) ||g||^2
  const int trials = 20000;
  Sample err;
  arma::vec mean(4, arma::fill::zeros);
  int nonZeroAtZero = 0, offAlphabet = 0;
  for (int t = 0; t < trials; ++t) {
    const auto ctx = test::Context(layer, 7000 + t);
    const arma::fvec r = DecodeOne(*q, EncodeOne(*q, g, ctx), ctx);
    err.Add(SquaredError(r, g));
    mean += arma::conv_to<arma::vec>::from(r);
    nonZeroAtZero += r[3] != 0.0f;
    for (float x : r) offAlphabet += x != 0.0f && x != 1.0f && x != -1.0f;  // s = 1
  }
  CHECK(nonZeroAtZero == 0);
  CHECK(offAlphabet == 0);
  // Per-trial SD 0.2165 (only the 0.25 coordinate varies): SE 0.0015, tolerance about 5 SE.
  CHECK(err.Mean() == Approx(0.4375).margin(0.008));
  // Unbiased: the 0.25 coordinate has SD sqrt(3/16) per trial, SE 0.0031.
  CHECK(mean[2] / trials == Approx(0.25).margin(0.015));
  CHECK(mean[0] / trials == 1.0);  // p = 1
  CHECK(mean[1] / trials == Approx(-0.5).margin(0.018));
}

TEST_CASE("TernGrad's measured error matches the exact theory and its bias shrinks like 1/R",
          "[terngrad][slow]") {
  const auto q = BuiltinRegistry().Make("terngrad:bucket=250");
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(1000, 1.0, 21);
  const Theory theory = q->ExpectedError(g, test::Context(layer, 0));
  CHECK(theory.exact <= theory.bound);
  // ||mean_R - g||^2 sums 1000 squared means with variances v_i/R, v_i = s|g_i| - g_i^2: its
  // relative SD is about sqrt(2 sum v_i^2)/sum v_i.
  double sumV = 0, sumV2 = 0;
  for (std::size_t b = 0; b < 1000; b += 250) {
    const double s = RoundUpToFloat(arma::max(arma::abs(g.subvec(b, b + 249))));
    for (std::size_t i = b; i < b + 250; ++i) {
      const double v = s * std::fabs(g[i]) - static_cast<double>(g[i]) * g[i];
      sumV += v, sumV2 += v * v;
    }
  }
  REQUIRE(sumV == Approx(theory.exact));
  const double relSd = std::sqrt(2 * sumV2) / sumV;
  REQUIRE(relSd < 0.1);
  const int trials = 2000;
  Sample err;
  arma::vec sum(1000, arma::fill::zeros);
  const arma::vec gd = arma::conv_to<arma::vec>::from(g);
  double bias100 = 0;
  for (int t = 0; t < trials; ++t) {
    const auto ctx = test::Context(layer, 100 + t);
    const arma::fvec r = DecodeOne(*q, EncodeOne(*q, g, ctx), ctx);
    err.Add(SquaredError(r, g));
    sum += arma::conv_to<arma::vec>::from(r);
    if (t + 1 == 100) bias100 = arma::accu(arma::square(sum / 100 - gd));
  }
  CHECK(err.Se() < 0.01 * theory.exact);  // the comparison below is sharp
  CHECK(std::fabs(err.Mean() - theory.exact) < 5 * err.Se());
  // E||mean_R - g||^2 = exact / R for an unbiased quantizer, within 5 relative SDs.
  const double bias2000 = arma::accu(arma::square(sum / trials - gd));
  CHECK(bias100 * 100 / theory.exact == Approx(1.0).margin(5 * relSd));
  CHECK(bias2000 * trials / theory.exact == Approx(1.0).margin(5 * relSd));
}

TEST_CASE("TernGrad costs 32 + 2b or 32 + 8*ceil(b/5) bits per bucket", "[terngrad]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(1000, 1.0, 3);
  const auto ctx = test::Context(layer, 1);
  CHECK(EncodeOne(*BuiltinRegistry().Make("terngrad"), g, ctx).bits == 2032);
  CHECK(EncodeOne(*BuiltinRegistry().Make("terngrad:packing=base3"), g, ctx).bits == 1632);
  CHECK(EncodeOne(*BuiltinRegistry().Make("terngrad:bucket=300"), g, ctx).bits == 4 * 32 + 2000);
  CHECK(EncodeOne(*BuiltinRegistry().Make("terngrad:bucket=300,packing=base3"), g, ctx).bits ==
        4 * 32 + 8 * (60 + 60 + 60 + 20));
  // Both packings carry the same trits.
  const auto a = BuiltinRegistry().Make("terngrad:bucket=300");
  const auto b = BuiltinRegistry().Make("terngrad:bucket=300,packing=base3");
  CHECK(arma::approx_equal(DecodeOne(*a, EncodeOne(*a, g, ctx), ctx),
                           DecodeOne(*b, EncodeOne(*b, g, ctx), ctx), "absdiff", 0.0f));
}

TEST_CASE("TernGrad clipping caps the scale at c*sigma and its theory adds the clip error",
          "[terngrad][slow]") {
  const auto q = BuiltinRegistry().Make("terngrad:clip=2.5");
  const LayerInfo layer = test::Layer({1000});
  arma::fvec g = test::LaplaceSlab(1000, 1.0, 4);
  g[5] = 40.0f;
  const double sigma = arma::stddev(arma::conv_to<arma::vec>::from(g), 1);  // population std
  const double threshold = 2.5 * sigma;
  const arma::vec gc = arma::clamp(arma::conv_to<arma::vec>::from(g), -threshold, threshold);
  const double s = RoundUpToFloat(threshold);
  const double clipSq = arma::accu(arma::square(arma::conv_to<arma::vec>::from(g) - gc));
  REQUIRE(clipSq > 1.0);
  const double expected = s * arma::accu(arma::abs(gc)) - arma::accu(arma::square(gc)) + clipSq;
  const Theory theory = q->ExpectedError(g, test::Context(layer, 0));
  CHECK(theory.exact == Approx(expected).epsilon(1e-9));
  CHECK(theory.exact <= theory.bound);

  const int trials = 1000;
  Sample err;
  arma::vec sum(1000, arma::fill::zeros);
  for (int t = 0; t < trials; ++t) {
    const auto ctx = test::Context(layer, 300 + t);
    const arma::fvec r = DecodeOne(*q, EncodeOne(*q, g, ctx), ctx);
    REQUIRE(arma::max(arma::abs(r)) <= static_cast<float>(s));
    err.Add(SquaredError(r, g));
    sum += arma::conv_to<arma::vec>::from(r);
  }
  CHECK(std::fabs(err.Mean() - theory.exact) < 5 * err.Se());
  // Biased towards the clipped slab: E g~ = g_c, so the mean converges to g_c, not g.
  const double variance = theory.exact - clipSq;
  CHECK(arma::accu(arma::square(sum / trials - gc)) < 1.3 * variance / trials);
  CHECK(arma::accu(arma::square(sum / trials - arma::conv_to<arma::vec>::from(g))) > 0.9 * clipSq);
}

TEST_CASE("TernGrad with a shared scale sends the workers' max scale and a sum downlink",
          "[terngrad][slow]") {
  const auto q = BuiltinRegistry().Make("terngrad:scale=shared");
  const LayerInfo layer = test::Layer({500});
  const std::vector<arma::fvec> slabs = {test::LaplaceSlab(500, 1.0, 1),
                                         test::LaplaceSlab(500, 2.0, 2),
                                         test::LaplaceSlab(500, 0.5, 3)};
  float shared = 0;
  for (const auto& g : slabs) shared = std::max(shared, arma::max(arma::abs(g)));
  SlabContext ctx = test::Context(layer, 5, 0, 3);
  CHECK(std::isnan(q->ExpectedError(slabs[0], ctx).Value()));  // needs the other workers

  double exact = 0, norm2 = 0;
  for (const auto& g : slabs) {
    const arma::vec gd = arma::conv_to<arma::vec>::from(g);
    exact += shared * arma::accu(arma::abs(gd)) - arma::accu(arma::square(gd));
    norm2 += arma::accu(arma::square(gd));
  }
  const int trials = 300;
  Sample err;
  for (int t = 0; t < trials; ++t) {
    ctx.seed = 900 + t;
    const auto messages = q->EncodeGroup(slabs, ctx, nullptr);
    const GroupResult r = q->DecodeGroup(messages, ctx);
    double e = 0;
    for (std::size_t w = 0; w < 3; ++w) {
      REQUIRE(arma::all(arma::abs(r.workers[w]) == 0.0f || arma::abs(r.workers[w]) == shared));
      e += SquaredError(r.workers[w], slabs[w]);
    }
    err.Add(e);
    if (t == 0) {
      CHECK(r.downlinkBits == 32 + 3 * 500);  // s, then sums in {-3..3}: ceil(log2 7) bits
      SlabStats stats;
      q->Diagnose(slabs, r, ctx, &stats);
      CHECK(stats.at("nmse_theory_shared") == Approx(exact / norm2).epsilon(1e-9));
    }
  }
  CHECK(std::fabs(err.Mean() - exact) < 5 * err.Se());

  // Messages encoded with their own scales break the shared-scale protocol.
  std::vector<Message> own;
  for (std::uint32_t w = 0; w < 3; ++w)
    own.push_back(q->Encode(slabs[w], ctx.ForWorker(w), nullptr));
  CHECK_THROWS_AS(q->DecodeGroup(own, ctx), FormatError);
}

TEST_CASE("TernGrad with own scales relays the workers' messages as its downlink", "[terngrad]") {
  const auto q = BuiltinRegistry().Make("terngrad");
  const LayerInfo layer = test::Layer({100});
  const std::vector<arma::fvec> slabs = {test::LaplaceSlab(100, 1.0, 1),
                                         test::LaplaceSlab(100, 3.0, 2)};
  const auto ctx = test::Context(layer, 5, 0, 2);
  const auto messages = q->EncodeGroup(slabs, ctx, nullptr);
  CHECK(q->DecodeGroup(messages, ctx).downlinkBits == messages[0].bits + messages[1].bits);
}

TEST_CASE("TernGrad's decoder rejects impossible messages", "[terngrad]") {
  const auto q = BuiltinRegistry().Make("terngrad");
  const LayerInfo layer = test::Layer({3});
  const auto ctx = test::Context(layer, 1);
  auto message = [](float scale, std::vector<std::int8_t> trits) {
    BitWriter w;
    w.PutFloat32(scale);
    PutTrits(w, trits.data(), trits.size(), TritPacking::kTwoBit);
    return w.Finish();
  };
  CHECK(DecodeOne(*q, message(2.0f, {1, 0, -1}), ctx)[2] == -2.0f);
  CHECK_THROWS_AS(DecodeOne(*q, message(0.0f, {0, 1, 0}), ctx), FormatError);
  CHECK_THROWS_AS(DecodeOne(*q, message(-1.0f, {0, 0, 0}), ctx), FormatError);
  CHECK_THROWS_AS(DecodeOne(*q, message(std::nanf(""), {0, 0, 0}), ctx), FormatError);
  CHECK_NOTHROW(DecodeOne(*q, message(0.0f, {0, 0, 0}), ctx));
}

}  // namespace gradquant
