// Random-K against docs/quantizers.md#randk.
#include "gradquant/quantizers/randk.hpp"

#include <catch2/catch.hpp>
#include <set>

#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::vec D(const arma::fvec& v) { return arma::conv_to<arma::vec>::from(v); }

// Worker 0's reconstruction at step `step` (the step changes the selection).
arma::fvec RoundTrip(const Quantizer& q, const arma::fvec& g, const LayerInfo& layer,
                     std::uint64_t seed, std::uint64_t step) {
  const auto ctx = test::Context(layer, seed, step);
  return q.DecodeGroup(q.EncodeGroup({g}, ctx, nullptr), ctx).workers[0];
}

}  // namespace

TEST_CASE("Random-K sends exactly 32K bits and only the selected coordinates", "[randk]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(1000, 1.0, 1);
  RandKQuantizer q = [] {
    Params p(ParseSpec("randk:kappa=0.1"));
    return RandKQuantizer(p);
  }();
  const auto ctx = test::Context(layer, 5, 3, 3);
  const auto messages = q.EncodeGroup({g, g, g}, ctx, nullptr);
  const GroupResult r = q.DecodeGroup(messages, ctx);
  std::set<std::size_t> unionSet;
  std::vector<std::vector<std::size_t>> sets;
  for (std::uint32_t w = 0; w < 3; ++w) {
    CHECK(messages[w].bits == 3200);
    const auto idx = q.Indices(ctx.ForWorker(w));
    sets.push_back(idx);
    unionSet.insert(idx.begin(), idx.end());
    REQUIRE(idx.size() == 100);
    CHECK(std::set<std::size_t>(idx.begin(), idx.end()).size() == 100);
    // Support = the regenerated set; values = (D/K) g_i.
    const arma::uvec support = arma::find(r.workers[w] != 0.0f);
    std::vector<std::size_t> sorted(idx);
    std::sort(sorted.begin(), sorted.end());
    CHECK(std::vector<std::size_t>(support.begin(), support.end()) == sorted);
    for (std::size_t i : idx) CHECK(r.workers[w][i] == static_cast<float>(10.0 * g[i]));
  }
  CHECK(sets[0] != sets[1]);  // the worker index is part of the key
  CHECK(r.downlinkBits == 32 * unionSet.size());
  CHECK(r.stats.at("union_frac") == Approx(unionSet.size() / 1000.0));
  CHECK(q.Indices(ctx.ForWorker(1)) == sets[1]);  // and the same key gives the same set

  // k overrides kappa; K >= 1 even for a tiny kappa.
  const LayerInfo small = test::Layer({10});
  const auto one = BuiltinRegistry().Make("randk:kappa=0.001");
  const auto c = test::Context(small, 1);
  CHECK(one->EncodeGroup({arma::fvec(10, arma::fill::ones)}, c, nullptr)[0].bits == 32);
  const auto seven = BuiltinRegistry().Make("randk:k=7,kappa=0.5");
  CHECK(seven->EncodeGroup({arma::fvec(10, arma::fill::ones)}, c, nullptr)[0].bits == 7 * 32);
}

TEST_CASE("Random-K MSE matches (D/K - 1)||g||^2 and (1 - K/D)||g||^2", "[randk][slow]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::GaussianSlab(1000, 1.0, 6);
  const double normSq = arma::accu(arma::square(D(g)));
  const auto unbiased = BuiltinRegistry().Make("randk:k=100");
  const auto none = BuiltinRegistry().Make("randk:k=100,scale=none");
  const auto ctx = test::Context(layer, 0);
  CHECK(unbiased->ExpectedError(g, ctx).exact == Approx(9.0 * normSq));  // docs/quantizers.md#randk
  CHECK(none->ExpectedError(g, ctx).exact == Approx(0.9 * normSq));
  // Per trial, ||C(g) - g||^2 = ||g||^2 + 80 sum_S g_i^2 (unbiased); for Gaussian g the
  // relative SD of sum_S g_i^2 is about sqrt(2/K * (1 - K/D)) = 0.134, so with 4000 trials
  // the SE of the mean is about 0.2 %: the 2 % tolerance is about 10 SE (5 SE under 1 %).
  const int trials = 4000;
  double sumU = 0, sumN = 0;
  for (int t = 0; t < trials; ++t) {
    sumU += arma::accu(arma::square(D(RoundTrip(*unbiased, g, layer, 77, t)) - D(g)));
    sumN += arma::accu(arma::square(D(RoundTrip(*none, g, layer, 77, t)) - D(g)));
  }
  CHECK(sumU / trials == Approx(9.0 * normSq).epsilon(0.02));
  CHECK(sumN / trials == Approx(0.9 * normSq).epsilon(0.01));  // relative SD ~0.01/sqrt(R)
}

TEST_CASE("Random-K unbiased: the bias of the mean shrinks like 1/R", "[randk][slow]") {
  const LayerInfo layer = test::Layer({1000});
  // Entries +-1: every coordinate contributes equally, which keeps the spread of the bias small.
  const arma::fvec g = arma::sign(test::LaplaceSlab(1000, 1.0, 12));
  const double normSq = arma::accu(arma::square(D(g)));
  const auto q = BuiltinRegistry().Make("randk:k=100");
  auto bias = [&](int trials, std::uint64_t seed) {
    arma::vec mean(1000, arma::fill::zeros);
    for (int t = 0; t < trials; ++t) mean += D(RoundTrip(*q, g, layer, seed, t));
    return arma::accu(arma::square(mean / trials - D(g)));
  };
  // For an unbiased method E||mean_R - g||^2 = 9||g||^2 / R. With equal |g_i| this is a sum of
  // 1000 near-chi-square terms: relative SD about sqrt(2.05/1000) = 4.5 %, so 25 % is 5.5 SE.
  const double b100 = bias(100, 1), b2000 = bias(2000, 2);
  CHECK(b100 == Approx(9.0 * normSq / 100).epsilon(0.25));
  CHECK(b2000 == Approx(9.0 * normSq / 2000).epsilon(0.25));
  // The biased variant does not converge to g: its mean tends to (K/D) g.
  const auto none = BuiltinRegistry().Make("randk:k=100,scale=none");
  arma::vec mean(1000, arma::fill::zeros);
  for (int t = 0; t < 500; ++t) mean += D(RoundTrip(*none, g, layer, 3, t));
  CHECK(arma::accu(arma::square(mean / 500 - D(g))) > 0.5 * normSq);
}

}  // namespace gradquant
