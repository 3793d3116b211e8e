// Scaled sign against docs/quantizers.md#scaledsign.
#include <catch2/catch.hpp>

#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
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

TEST_CASE("Scaled sign of (1, -2, 0, 3) is 1.5 sign(g) with error 5", "[scaledsign]") {
  const auto q = BuiltinRegistry().Make("scaledsign");
  const LayerInfo layer = test::Layer({4});
  const arma::fvec g = {1.0f, -2.0f, 0.0f, 3.0f};
  const auto ctx = test::Context(layer, 1);
  Message m;
  const arma::fvec r = RoundTrip(*q, g, ctx, &m);
  CHECK(m.bits == 4 + 32);
  CHECK(arma::approx_equal(r, arma::fvec{1.5f, -1.5f, 1.5f, 1.5f}, "absdiff", 0.0f));  // sign(0)=+1
  CHECK(q->ExpectedError(g, ctx).exact == 5.0);  // ||g||^2 - ||g||_1^2/D = 14 - 36/4
}

TEST_CASE("Scaled sign's error is exactly ||g||^2 - ||g||_1^2/D", "[scaledsign]") {
  const auto q = BuiltinRegistry().Make("scaledsign");
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const std::size_t n = 50 * seed + 3;
    const LayerInfo layer = test::Layer({n});
    arma::fvec g = test::LaplaceSlab(n, 0.01 * seed, seed);
    g[seed % n] = 0.0f;
    const auto ctx = test::Context(layer, seed);
    Message m;
    const arma::fvec r = RoundTrip(*q, g, ctx, &m);
    CHECK(m.bits == n + 32);
    const arma::vec gd = arma::conv_to<arma::vec>::from(g);
    const double measured = arma::accu(arma::square(arma::conv_to<arma::vec>::from(r) - gd));
    const double norm1 = arma::accu(arma::abs(gd));
    const Theory theory = q->ExpectedError(g, ctx);
    // The theory uses the transmitted float32 scale, so it is the measured value itself ...
    CHECK(theory.exact == Approx(measured).epsilon(1e-12));
    // ... and the real-valued formula differs only by the scale's float32 rounding.
    CHECK(measured == Approx(arma::dot(gd, gd) - norm1 * norm1 / n).epsilon(1e-6));
    CHECK(measured <= arma::dot(gd, gd));  // a contraction
  }
}

TEST_CASE("Scaled sign's decoder rejects a bad scale", "[scaledsign]") {
  const auto q = BuiltinRegistry().Make("scaledsign");
  const LayerInfo layer = test::Layer({3});
  const auto ctx = test::Context(layer, 1);
  for (float scale : {-1.0f, std::numeric_limits<float>::infinity(), std::nanf("")}) {
    BitWriter w;
    w.PutFloat32(scale);
    w.Put(0b010, 3);
    CHECK_THROWS_AS(q->DecodeGroup({w.Finish()}, ctx), FormatError);
  }
}

}  // namespace gradquant
