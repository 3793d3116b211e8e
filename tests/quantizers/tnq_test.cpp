// TNQ against docs/quantizers.md#tnq.
#include "gradquant/quantizers/tnq.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/stats/tnq_theory.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::fvec RoundTrip(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx,
                     Message* message = nullptr, SlabStats* stats = nullptr) {
  const auto m = q.EncodeGroup({g}, ctx, stats);
  if (message) *message = m[0];
  return q.DecodeGroup(m, ctx).workers[0];
}

// Running mean and variance of a sample.
struct Moments {
  double n = 0, sum = 0, sumSq = 0;
  void Add(double x) { n += 1, sum += x, sumSq += x * x; }
  double Mean() const { return sum / n; }
  double Se() const { return std::sqrt((sumSq / n - Mean() * Mean()) / n); }
};

}  // namespace

TEST_CASE("TNQ Monte Carlo on Laplace(0,1) at alpha*: truncation and rounding parts (§10.12)",
          "[tnq][slow]") {
  const double a = kTnqA;
  const std::pair<std::uint32_t, double> rows[] = {{1, 0.19443}, {2, 0.20077}, {3, 0.18795},
                                                   {4, 0.16153}, {7, 0.10516}, {15, 0.04176}};
  const std::size_t n = 1000000;
  const arma::fvec g = test::LaplaceSlab(n, 1.0, 12);
  std::vector<std::uint32_t> symbols(n);
  for (const auto& [s, quantExact] : rows) {
    INFO("s " << s);
    const std::vector<double> levels = TnqLevelsAtOptimum(1.0, s);
    const double alpha = levels.back();
    const Rng rng({77, s, 0, 0}, Purpose::kRounding);
    const std::size_t clipped = TnqSymbols(g.memptr(), n, levels, rng, 0, symbols.data());
    Moments trunc, quant, total, bias;
    std::size_t beyond = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double x = g[i], t = std::clamp(x, -alpha, alpha), q = levels[symbols[i]];
      beyond += std::fabs(x) > alpha;
      trunc.Add((t - x) * (t - x));
      quant.Add((q - t) * (q - t));
      total.Add((q - x) * (q - x));
      bias.Add(q - t);
    }
    CHECK(clipped == beyond);
    // SEs from the samples (about 2e-3 for the truncation part at s = 3, docs/quantizers.md#tnq).
    CHECK(std::fabs(trunc.Mean() - 2 * std::exp(-alpha)) < 5 * trunc.Se());
    CHECK(std::fabs(quant.Mean() - quantExact) < 5 * quant.Se());
    CHECK(std::fabs(bias.Mean()) < 5 * bias.Se());  // E[Q | t] = t
    CHECK(total.Mean() <= 27 / ((s + a) * (s + a)));
  }
}

TEST_CASE("TNQ rounding is unbiased given t for every cell", "[tnq]") {
  // Fixed t values, many rounding draws each: the mean of the level is t.
  const std::vector<double> levels = TnqLevelsAtOptimum(0.5, 7);
  const std::size_t reps = 20000;
  for (double t : {-0.9, -0.3, -0.01, 0.0, 0.05, 0.4, 1.2, 1.59}) {
    INFO("t " << t);
    std::vector<float> g(reps, static_cast<float>(t));
    std::vector<std::uint32_t> symbols(reps);
    TnqSymbols(g.data(), reps, levels, Rng({5, 0, 0, 0}, Purpose::kRounding), 0, symbols.data());
    Moments m;
    for (auto j : symbols) m.Add(levels[j]);
    const double tf = static_cast<float>(t);
    if (m.Se() == 0) {
      CHECK(m.Mean() == Approx(tf));
    } else {
      CHECK(std::fabs(m.Mean() - tf) < 5 * m.Se());
    }
  }
}

TEST_CASE("TNQ measured MSE over seeds matches ExpectedError's exact value", "[tnq][slow]") {
  const LayerInfo layer = test::Layer({2000});
  const arma::fvec g = test::LaplaceSlab(layer.n, 0.01, 5);
  for (const char* spec : {"tnq", "tnq:bits=3,bucket=500,levels=uniform", "tnq:alpha=0.02"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const double exact = q->ExpectedError(g, test::Context(layer, 0)).exact;
    Moments err;
    for (int seed = 0; seed < 400; ++seed) {
      const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 1000 + seed));
      err.Add(arma::accu(
          arma::square(arma::conv_to<arma::vec>::from(r) - arma::conv_to<arma::vec>::from(g))));
    }
    // SE of the mean over 400 seeds, from the samples (about 0.15 % of the rounding part).
    CHECK(std::fabs(err.Mean() - exact) < 5 * err.Se());
    CHECK(err.Se() > 0);
  }
}

TEST_CASE("TNQ bits are 32 + D*bits per bucket and gamma is the sent float32", "[tnq]") {
  const LayerInfo layer = test::Layer({1000});
  const arma::fvec g = test::LaplaceSlab(layer.n, 0.2, 4);
  for (std::uint32_t bits : {1u, 2u, 3u, 4u, 8u}) {
    const auto q = BuiltinRegistry().Make("tnq:bits=" + std::to_string(bits));
    Message m;
    SlabStats stats;
    const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 1), &m, &stats);
    CHECK(m.bits == 32 + 1000 * bits);
    BitReader reader(m, "test");
    const float gamma = reader.GetFloat32();
    CHECK(gamma == static_cast<float>(arma::mean(arma::abs(arma::conv_to<arma::vec>::from(g)))));
    CHECK(stats["gamma"] == gamma);
    const auto levels = dynamic_cast<const TnqQuantizer&>(*q).Levels(gamma);
    CHECK(stats["alpha"] == levels.back());
    CHECK(stats["alpha"] == TnqAlphaStar(gamma, (1u << bits) - 1));
    // Every output is one of the levels rebuilt from the transmitted gamma.
    bool onLevels = true;
    for (float x : r) {
      onLevels = onLevels && std::any_of(levels.begin(), levels.end(),
                                         [&](double l) { return static_cast<float>(l) == x; });
    }
    CHECK(onLevels);
    std::size_t beyond = 0;
    for (float x : g) beyond += std::fabs(x) > levels.back();
    CHECK(stats["trunc_frac"] == Approx(beyond / 1000.0));
    CHECK(stats["bits_entropy"] <= 32 + 1000.0 * bits + 1e-9);
  }
  const auto b = BuiltinRegistry().Make("tnq:bits=3,bucket=300");
  Message m;
  RoundTrip(*b, g, test::Context(layer, 1), &m);
  CHECK(m.bits == 4 * 32 + 3000);
}

TEST_CASE("TNQ with a numeric threshold and uniform levels", "[tnq]") {
  const LayerInfo layer = test::Layer({500});
  const arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 6);
  const auto q = BuiltinRegistry().Make("tnq:alpha=1.5,bits=2,levels=uniform");
  SlabStats stats;
  const arma::fvec r = RoundTrip(*q, g, test::Context(layer, 2), nullptr, &stats);
  CHECK(stats["alpha"] == 1.5);
  std::size_t beyond = 0;
  for (float x : g) beyond += std::fabs(x) > 1.5f;
  CHECK(stats["trunc_frac"] == Approx(beyond / 500.0));
  for (float x : r) {
    const bool onGrid = x == -1.5f || x == -0.5f || x == 0.5f || x == 1.5f;
    CHECK(onGrid);
  }
  // Laplace levels with the same alpha are companded: denser near 0.
  const auto lap =
      dynamic_cast<const TnqQuantizer&>(*BuiltinRegistry().Make("tnq:alpha=1.5")).Levels(1.0f);
  CHECK(lap.front() == -1.5);
  CHECK(lap[2] < 0.5);
}

TEST_CASE("TNQ sends exact zeros for an all-zero bucket and rejects a bad gamma", "[tnq]") {
  const LayerInfo layer = test::Layer({10});
  arma::fvec g(10, arma::fill::zeros);
  g.head(5) = test::LaplaceSlab(5, 1.0, 2);
  const auto q = BuiltinRegistry().Make("tnq:bucket=5");
  const SlabContext ctx = test::Context(layer, 3);
  const arma::fvec r = RoundTrip(*q, g, ctx);
  CHECK(arma::all(r.tail(5) == 0.0f));
  CHECK(q->ExpectedError(g, ctx).exact >= 0.0);
  for (float bad : {-1.0f, NAN, INFINITY}) {
    BitWriter w;
    w.PutFloat32(bad);
    w.Put(0, 10);
    w.PutFloat32(0.0f);
    w.Put(0, 10);
    CHECK_THROWS_AS(q->DecodeGroup({w.Finish()}, ctx), FormatError);
  }
  BitWriter w;  // gamma 0 with a non-zero symbol
  w.PutFloat32(0.0f);
  w.Put(1, 10);
  w.PutFloat32(0.0f);
  w.Put(0, 10);
  CHECK_THROWS_AS(q->DecodeGroup({w.Finish()}, ctx), FormatError);
}

}  // namespace gradquant
