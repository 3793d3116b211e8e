// QSGD against docs/quantizers.md#qsgd.
#include <catch2/catch.hpp>

#include "gradquant/coding/codes.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

Message EncodeOne(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx) {
  return q.EncodeGroup({g}, ctx, nullptr)[0];
}

arma::fvec DecodeOne(const Quantizer& q, const Message& m, const SlabContext& ctx) {
  return q.DecodeGroup({m}, ctx).workers[0];
}

}  // namespace

TEST_CASE("QSGD sends e1 exactly with the paper's Elias bits", "[qsgd]") {
  for (int s : {1, 4}) {
    const auto q = BuiltinRegistry().Make("qsgd:s=" + std::to_string(s));
    const LayerInfo layer = test::Layer({50});
    arma::fvec e1(50, arma::fill::zeros);
    e1[0] = 1.0f;
    const auto ctx = test::Context(layer, 9);
    const Message m = EncodeOne(*q, e1, ctx);
    // 32 (norm) + omega(nnz+1 = 2) + omega(gap 1) + sign + omega(level s), docs/quantizers.md#qsgd.
    CHECK(m.bits == static_cast<std::uint64_t>(32 + 3 + 1 + 1 + OmegaLength(s)));
    CHECK(arma::approx_equal(DecodeOne(*q, m, ctx), e1, "absdiff", 0.0f));
  }
}

TEST_CASE("QSGD's dense regime costs exactly 32 + omega(D+1) + 3D bits", "[qsgd]") {
  const auto q = BuiltinRegistry().Make("qsgd:s=100");
  const LayerInfo layer = test::Layer({10000});
  const arma::fvec ones(10000, arma::fill::ones);
  const auto ctx = test::Context(layer, 1);
  const Message m = EncodeOne(*q, ones, ctx);
  CHECK(m.bits == 30053);  // docs/quantizers.md#qsgd
  CHECK(arma::approx_equal(DecodeOne(*q, m, ctx), ones, "absdiff", 1e-6f));
}

TEST_CASE("QSGD variance matches the exact formula, stays under Lemma 3.1, and is unbiased",
          "[qsgd][slow]") {
  const auto q = BuiltinRegistry().Make("qsgd:s=1");
  const LayerInfo layer = test::Layer({100});
  const arma::fvec ones(100, arma::fill::ones);
  const auto theory = q->ExpectedError(ones, test::Context(layer, 0));
  CHECK(theory.exact == Approx(900.0));  // docs/quantizers.md#qsgd
  CHECK(theory.bound == Approx(1000.0));

  const arma::fvec g = test::LaplaceSlab(100, 1.0, 5);
  const auto exact = q->ExpectedError(g, test::Context(layer, 0)).exact;
  const int trials = 20000;  // per-trial relative SD about 0.27: SE 0.2 %
  double sumSq = 0, nnz = 0;
  arma::vec mean(100, arma::fill::zeros);
  arma::vec meanOnes(100, arma::fill::zeros);
  double sumSqOnes = 0;
  for (int t = 0; t < trials; ++t) {
    const auto ctx = test::Context(layer, 1000 + t);
    const arma::fvec r = DecodeOne(*q, EncodeOne(*q, g, ctx), ctx);
    sumSq += arma::accu(arma::square(arma::conv_to<arma::vec>::from(r - g)));
    mean += arma::conv_to<arma::vec>::from(r);
    const arma::fvec r1 = DecodeOne(*q, EncodeOne(*q, ones, ctx), ctx);
    sumSqOnes += arma::accu(arma::square(arma::conv_to<arma::vec>::from(r1 - ones)));
    nnz += arma::accu(r1 != 0.0f);
  }
  CHECK(sumSq / trials == Approx(exact).epsilon(0.02));
  CHECK(sumSqOnes / trials == Approx(900.0).epsilon(0.02));
  CHECK(nnz / trials == Approx(10.0).epsilon(0.02));  // E nnz = ||v||_1/||v||_2 = sqrt(D)
  const double norm2 = arma::accu(arma::square(arma::conv_to<arma::vec>::from(g)));
  CHECK(sumSq / trials <= std::min(100.0, 10.0) * norm2);
  // Bias: ||mean - g||^2 is the variance / R for an unbiased quantizer.
  const double bias = arma::accu(arma::square(mean / trials - arma::conv_to<arma::vec>::from(g)));
  CHECK(bias < 3.0 * exact / trials);
}

TEST_CASE("QSGD bias shrinks like 1/R", "[qsgd][slow]") {
  const auto q = BuiltinRegistry().Make("qsgd:s=2,coding=fixed,norm=max");
  const LayerInfo layer = test::Layer({200});
  const arma::fvec g = test::GaussianSlab(200, 1.0, 8);
  auto bias = [&](int trials) {
    arma::vec mean(200, arma::fill::zeros);
    for (int t = 0; t < trials; ++t) {
      const auto ctx = test::Context(layer, 50000 + t);
      mean += arma::conv_to<arma::vec>::from(DecodeOne(*q, EncodeOne(*q, g, ctx), ctx));
    }
    return arma::accu(arma::square(mean / trials - arma::conv_to<arma::vec>::from(g)));
  };
  const double b100 = bias(100), b6400 = bias(6400);
  CHECK(b6400 < b100 / 20);  // 1/R predicts a factor 64
}

TEST_CASE("QSGD fixed coding costs 32 + b*ceil(log2(2s+1)) per bucket", "[qsgd]") {
  const auto q = BuiltinRegistry().Make("qsgd:s=7,coding=fixed,norm=max,bucket=512");
  const LayerInfo layer = test::Layer({1024});
  const arma::fvec g = test::LaplaceSlab(1024, 1.0, 3);
  const auto ctx = test::Context(layer, 2);
  const Message m = EncodeOne(*q, g, ctx);
  CHECK(m.bits == 2 * (32 + 512 * 4));
  const arma::fvec r = DecodeOne(*q, m, ctx);
  // Max scaling: every coordinate is within one level (scale/s) of its input.
  const float scale = arma::max(arma::abs(g.head(512)));
  CHECK(arma::max(arma::abs(r.head(512) - g.head(512))) <= scale / 7 * 1.0001f);
}

}  // namespace gradquant
