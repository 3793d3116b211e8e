// DQSG against docs/quantizers.md#dqsg.
#include <catch2/catch.hpp>
#include <cstring>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::fvec RoundTrip(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx,
                     Message* message = nullptr) {
  const auto m = q.EncodeGroup({g}, ctx, nullptr);
  if (message) *message = m[0];
  return q.DecodeGroup(m, ctx).workers[0];
}

}  // namespace

TEST_CASE("DQSG error is uniform over one step, variance D^2/12, uncorrelated with g",
          "[dqsg][slow]") {
  const auto q = BuiltinRegistry().Make("dqsg:s=3");
  const LayerInfo layer = test::Layer({1000});
  // ||g||_inf = 3 and s = 3 give step 1 (docs/quantizers.md#dqsg).
  arma::fvec g = test::LaplaceSlab(layer.n, 0.6, 1);
  g = arma::clamp(g, -2.9f, 2.9f);
  g[17] = 3.0f;
  const double step = StepForMax(3.0, 3);
  REQUIRE(step == 1.0);
  const int trials = 400;
  double sum = 0, sumSq = 0, sumEg = 0, maxAbs = 0, total = 0;
  const double gMean = arma::mean(arma::conv_to<arma::vec>::from(g));
  for (int t = 0; t < trials; ++t) {
    const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 100 + t));
    for (std::size_t i = 0; i < layer.n; ++i) {
      const double e = static_cast<double>(r[i]) - g[i];
      REQUIRE(e > -0.5 * step - 1e-6);
      REQUIRE(e <= 0.5 * step + 1e-6);
      sum += e;
      sumSq += e * e;
      sumEg += e * (g[i] - gMean);
      maxAbs = std::max(maxAbs, std::fabs(e));
    }
    total += layer.n;
  }
  // 4e5 samples of U(-1/2,1/2): SE of the variance is about 1/(12 sqrt(n/1.8)) = 1.8e-4.
  CHECK(std::fabs(sumSq / total - 1.0 / 12) < 1e-3);  // within 1.2 %
  CHECK(std::fabs(sum / total) < 5 * std::sqrt(1.0 / 12 / total));
  const double gVar = arma::var(arma::conv_to<arma::vec>::from(g));
  const double corr = (sumEg / total) / std::sqrt(gVar * sumSq / total);
  CHECK(std::fabs(corr) < 5 / std::sqrt(total));
  CHECK(maxAbs > 0.49 * step);
  // And the exact theory the reports use agrees: D * step^2 / 12 = 83.33.
  CHECK(q->ExpectedError(g, test::Context(layer, 0)).exact == Approx(1000.0 / 12));
}

TEST_CASE("DQSG symbols stay in {-s..s}, including the float32 corner case", "[dqsg]") {
  // M = 0x3e917e85, s = 7: float32(M/7) is too small; the step must be 0x3d264774
  // (docs/quantizers.md#rounding).
  std::uint32_t bitsM = 0x3e917e85u;
  float m;
  std::memcpy(&m, &bitsM, 4);
  const float step = StepForMax(m, 7);
  std::uint32_t bitsStep;
  std::memcpy(&bitsStep, &step, 4);
  CHECK(bitsStep == 0x3d264774u);
  const auto q = BuiltinRegistry().Make("dqsg:s=7");
  const LayerInfo layer = test::Layer({64});
  arma::fvec g(layer.n, arma::fill::value(m));
  g.tail(32).fill(-m);
  for (int seed = 0; seed < 50; ++seed) {
    const arma::fvec r = RoundTrip(*q, g, test::Context(layer, seed));
    // Decode rejects symbols above 2s, so reaching here means every k was in range.
    CHECK(arma::max(arma::abs(r - g)) <= 0.5f * step * 1.0001f);
  }
}

TEST_CASE("DQSG bit count is 32 + D*ceil(log2(2s+1)) per bucket", "[dqsg]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 4);
  Message m;
  SlabStats stats;
  const auto q = BuiltinRegistry().Make("dqsg:s=3");
  RoundTrip(*q, g, test::Context(layer, 1), &m);
  CHECK(m.bits == 3032);  // docs/quantizers.md#dqsg
  CHECK(m.bytes.size() == 379);
  const auto b = BuiltinRegistry().Make("dqsg:s=3,bucket=300");
  RoundTrip(*b, g, test::Context(layer, 1), &m);
  CHECK(m.bits == 4 * 32 + 3000);  // buckets 300, 300, 300, 100
}

TEST_CASE("DQSG sends exact zeros for an all-zero bucket", "[dqsg]") {
  const LayerInfo layer = test::Layer({10});
  arma::fvec g(10, arma::fill::zeros);
  g.head(5) = test::LaplaceSlab(5, 1.0, 2);
  const auto q = BuiltinRegistry().Make("dqsg:s=2,bucket=5");
  const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 3));
  CHECK(arma::all(r.tail(5) == 0.0f));
}

}  // namespace gradquant
