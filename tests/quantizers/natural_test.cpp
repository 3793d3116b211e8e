// Natural compression against docs/quantizers.md#natural.
#include "gradquant/quantizers/natural.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::fvec RoundTrip(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx,
                     SlabStats* stats = nullptr, Message* message = nullptr) {
  const auto m = q.EncodeGroup({g}, ctx, stats);
  if (message) *message = m[0];
  return q.DecodeGroup(m, ctx).workers[0];
}

double Variance(const Quantizer& q, float t) {
  const LayerInfo layer = test::Layer({1});
  return q.ExpectedError(arma::fvec{t}, test::Context(layer, 0)).exact;
}

}  // namespace

TEST_CASE("C_nat(2.5) is 2 or 4 with P(4) = 1/4 and variance 0.75, in 9 bits", "[natural]") {
  const auto q = BuiltinRegistry().Make("natural");
  const std::size_t n = 40000;  // independent draws: one uniform per coordinate
  const LayerInfo layer = test::Layer({n});
  for (float t : {2.5f, -2.5f}) {
    const arma::fvec g(n, arma::fill::value(t));
    Message m;
    const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 11), nullptr, &m);
    CHECK(m.bits == 9 * n);
    const float low = std::copysign(2.0f, t), high = std::copysign(4.0f, t);
    const double up = arma::accu(r == high) / static_cast<double>(n);
    CHECK(arma::accu(r == low) + arma::accu(r == high) == n);  // only 2 and 4
    CHECK(up == Approx(0.25).margin(0.01));                    // SE 0.0022: about 4.6 SE
    const double mse = arma::accu(arma::square(arma::conv_to<arma::vec>::from(r - g))) / n;
    CHECK(mse == Approx(0.75).margin(0.02));  // per-draw SD 0.866, SE 0.0043
    CHECK(arma::mean(arma::conv_to<arma::vec>::from(r)) == Approx(t).margin(0.022));  // SE 0.0043
  }
  CHECK(Variance(*q, 2.5f) == 0.75);
}

TEST_CASE("Natural compression's Var/t^2 peaks at 1/8 at (4/3)*2^a", "[natural]") {
  const auto q = BuiltinRegistry().Make("natural");
  for (int a : {-20, -1, 0, 7, 100}) {
    const float t = std::ldexp(4.0f / 3.0f, a);
    CHECK(Variance(*q, t) / (static_cast<double>(t) * t) == Approx(0.125).epsilon(1e-6));
  }
  double best = 0;
  int argBest = -1;
  for (int k = 0; k < 4096; ++k) {
    const float t = 1.0f + k / 4096.0f;
    const double ratio = Variance(*q, t) / (static_cast<double>(t) * t);
    if (ratio > best) best = ratio, argBest = k;
  }
  CHECK(best <= 0.125);
  CHECK(best > 0.12499);
  CHECK(std::abs(argBest - 4096 / 3) <= 1);
  const LayerInfo layer = test::Layer({2000});
  const arma::fvec g = test::LaplaceSlab(2000, 1.0, 9);
  const Theory theory = q->ExpectedError(g, test::Context(layer, 0));
  CHECK(theory.exact <= theory.bound);
  CHECK(theory.bound == Approx(arma::accu(arma::square(arma::conv_to<arma::vec>::from(g))) / 8));
}

TEST_CASE("Natural compression reads the IEEE exponent; powers of two and zero are exact",
          "[natural]") {
  const float below2 = std::nextafter(2.0f, 0.0f);  // floor(log2) in float would say 1
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    const double u = (seed + 0.5) / 200;
    bool flushed = false;
    const float r = NaturalValue(NaturalCode(below2, u, &flushed));
    CHECK((r == 1.0f || r == 2.0f));
    CHECK(NaturalValue(NaturalCode(2.0f, u, &flushed)) == 2.0f);
    CHECK(NaturalValue(NaturalCode(-0.25f, u, &flushed)) == -0.25f);
    CHECK(NaturalValue(NaturalCode(0.0f, u, &flushed)) == 0.0f);
    const float r75 = NaturalValue(NaturalCode(0.75f, u, &flushed));
    CHECK(r75 == (u < 0.5 ? 1.0f : 0.5f));
    CHECK_FALSE(flushed);
  }
}

TEST_CASE("Natural compression is unbiased and its variance matches the exact theory",
          "[natural][slow]") {
  const auto q = BuiltinRegistry().Make("natural");
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::GaussianSlab(1000, 0.01, 12);
  const arma::vec gd = arma::conv_to<arma::vec>::from(g);
  const double exact = q->ExpectedError(g, test::Context(layer, 0)).exact;
  // ||mean_R - g||^2 sums 1000 squared means with variances v_i/R: its relative SD is about
  // sqrt(2 sum v_i^2)/sum v_i.
  double sumV2 = 0;
  for (float t : g) sumV2 += Variance(*q, t) * Variance(*q, t);
  const double relSd = std::sqrt(2 * sumV2) / exact;
  REQUIRE(relSd < 0.1);
  const int trials = 2000;
  double sum = 0, sumSq = 0, bias100 = 0;
  arma::vec total(1000, arma::fill::zeros);
  for (int t = 0; t < trials; ++t) {
    const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 500 + t));
    const arma::vec rd = arma::conv_to<arma::vec>::from(r);
    const double e = arma::accu(arma::square(rd - gd));
    sum += e, sumSq += e * e;
    total += rd;
    if (t + 1 == 100) bias100 = arma::accu(arma::square(total / 100 - gd));
  }
  const double mean = sum / trials, se = std::sqrt((sumSq / trials - mean * mean) / trials);
  CHECK(se < 0.01 * exact);
  CHECK(std::fabs(mean - exact) < 5 * se);
  // E||mean_R - g||^2 = exact/R, within 5 relative SDs.
  CHECK(bias100 * 100 / exact == Approx(1.0).margin(5 * relSd));
  CHECK(arma::accu(arma::square(total / trials - gd)) * trials / exact ==
        Approx(1.0).margin(5 * relSd));
}

TEST_CASE("Subnormals round between 0 and 2^-126 without bias", "[natural]") {
  const auto q = BuiltinRegistry().Make("natural");
  const std::size_t n = 40000;
  const LayerInfo layer = test::Layer({n});
  const float t = std::ldexp(1.0f, -130);  // subnormal: P(2^-126) = 2^-4
  REQUIRE(std::fpclassify(t) == FP_SUBNORMAL);
  const arma::fvec g(n, arma::fill::value(t));
  SlabStats stats;
  const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 4), &stats);
  const float tiny = std::numeric_limits<float>::min();  // 2^-126
  CHECK(arma::accu(r == tiny) + arma::accu(r == 0.0f) == n);
  CHECK(arma::accu(r == tiny) / static_cast<double>(n) ==
        Approx(1.0 / 16).margin(0.006));  // SE 0.0012
  CHECK(stats.at("subnormal") == n);
  CHECK(stats.at("flushed") == 0);
  const double expected = (static_cast<double>(tiny) - t) * t;
  CHECK(Variance(*q, t) == Approx(expected).epsilon(1e-12));
}

TEST_CASE("Natural compression flushes overflow to 2^127 and counts it", "[natural]") {
  const auto q = BuiltinRegistry().Make("natural");
  const std::size_t n = 1000;
  const LayerInfo layer = test::Layer({n});
  const float big = std::ldexp(1.5f, 127), top = std::ldexp(1.0f, 127);
  arma::fvec g(n, arma::fill::value(-big));
  g[0] = std::numeric_limits<float>::infinity();
  g[1] = std::numeric_limits<float>::quiet_NaN();
  SlabStats stats;
  const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 8), &stats);
  CHECK(r[0] == top);
  CHECK(r[1] == 0.0f);
  CHECK(arma::all(r.tail(n - 2) == -top));
  // Half of the 998 finite ones round up and are flushed (SD 16), plus inf and NaN.
  CHECK(stats.at("flushed") == Approx(2 + 499).margin(80));
  const double gap = static_cast<double>(big) - top;
  CHECK(Variance(*q, big) == Approx(gap * gap));
}

TEST_CASE("Natural compression's decoder rejects exponent field 255", "[natural]") {
  const auto q = BuiltinRegistry().Make("natural");
  const LayerInfo layer = test::Layer({2});
  const auto ctx = test::Context(layer, 1);
  BitWriter ok, bad;
  ok.Put(0x17F, 9);  // -2^0
  ok.Put(0x000, 9);
  bad.Put(0x17F, 9);
  bad.Put(0x0FF, 9);
  CHECK(arma::approx_equal(q->DecodeGroup({ok.Finish()}, ctx).workers[0], arma::fvec{-1.0f, 0.0f},
                           "absdiff", 0.0f));
  CHECK_THROWS_AS(q->DecodeGroup({bad.Finish()}, ctx), FormatError);
}

}  // namespace gradquant
