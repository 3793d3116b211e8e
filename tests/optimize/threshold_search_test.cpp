// The threshold part of `optimize` against docs/quantizers.md#tnq and
// docs/cli.md#the-thresholds-table.
#include "gradquant/optimize/threshold_search.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/optimize/empirical_threshold.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/stats/tnq_theory.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

struct Row {
  std::uint32_t bits, s;
  double alpha, f;
  std::vector<double> levels;  // docs/quantizers.md#tnq, gamma = 1 (empty: none)
};
const Row kTable[] = {
    {1, 1, 0.7222, 1.23578, {-0.7222, 0.7222}},
    {2, 3, 1.7907, 0.60612, {-1.7907, -0.4870, 0.4870, 1.7907}},
    {3, 7, 3.1995, 0.23697, {-3.1995, -1.8957, -0.9899, -0.2951, 0.2951, 0.9899, 1.8957, 3.1995}},
    {4, 15, 4.8774, 0.07742, {}}};

// The exact expected error of tnq's levels at α under Laplace(0, 1), by numerical integration:
// truncation 2∫(g − α)²p plus the rounding variance Σ∫(ℓ_{j+1} − g)(g − ℓ_j)p (tnq_theory).
double LaplaceExactError(double alpha, double levelGamma, std::uint32_t s) {
  const SymmetricPdf pdf = LaplacePdf(1.0);
  return TruncationError(pdf, alpha) +
         RoundingVariance(TnqLaplaceLevels(alpha, levelGamma, s), pdf);
}

}  // namespace

TEST_CASE(
    "Optimize reproduces the TNQ closed-form table of threshold and error and levels (§10.11)",
    "[optimize]") {
  // A slab of ±1 has gamma = mean|g| = 1 and mean g² = 1, so the row's closed-form threshold and
  // prediction are the table's alpha* and f*. Every value sits at 1, inside the cell
  // [l_j, l_{j+1}] of the table's levels, so the measured error is (1 − α*)² when α* < 1
  // (s = 1: both levels are ±α*), else the rounding variance (l_{j+1} − 1)(1 − l_j) exactly.
  const LayerInfo layer = test::Layer({10000});
  arma::fvec g(layer.n);
  for (std::size_t i = 0; i < g.n_elem; ++i) g[i] = i % 2 ? 1.0f : -1.0f;
  TnqTrials where{&layer, 0, 3, 4};
  ThresholdOptions quick;  // the search is not under test here: 3 grid points, no refinement
  quick.gridPoints = 3;
  quick.logResolution = 10;
  for (const Row& row : kTable) {
    INFO("bits " << row.bits);
    const ThresholdRow r = AnalyzeThresholds({g}, where, row.bits, quick);
    CHECK(r.fit.gamma == 1.0);
    CHECK(r.fit.meanSquare == 1.0);
    CHECK(std::fabs(r.closed.alpha - row.alpha) < 1e-4);
    CHECK(std::fabs(r.closed.predicted - row.f) < 1e-5);
    if (row.levels.empty()) continue;
    // The cell of 1 among the table's levels.
    std::size_t j = 0;
    while (j + 2 < row.levels.size() && row.levels[j + 1] <= 1.0) ++j;
    const double lo = row.levels[j], hi = row.levels[j + 1];
    if (row.alpha < 1) {
      CHECK(r.closed.measured.trunc == Approx((1 - row.alpha) * (1 - row.alpha)).epsilon(1e-3));
      CHECK(r.closed.measured.quant < 1e-12);  // only the float32 rounding of ±α*
    } else {
      // Two outcomes per coordinate: SE = sd/sqrt(4·10^4) with sd <= (hi − lo)²/2, e.g. 9e-4 at
      // s = 3 (0.2% of 0.4056), so 4 decimals of the table levels (error 5e-5 × cell) decide.
      const double exact = (hi - 1.0) * (1.0 - lo);
      const double se = (hi - lo) * (hi - lo) / 2 / std::sqrt(4e4);
      CHECK(r.closed.measured.trunc == 0.0);
      CHECK(std::fabs(r.closed.measured.quant - exact) < 5 * se + 1e-4 * (hi - lo));
    }
  }
}

TEST_CASE("The log-grid and golden-section search finds the minimum of the Laplace model",
          "[optimize]") {
  // The search machinery on a known, noise-free objective: f(α) of docs/quantizers.md#tnq,
  // minimised at α*.
  const ThresholdOptions opts;
  for (const Row& row : kTable) {
    INFO("s " << row.s);
    const LogMinimum m =
        MinimizeLog([&](double alpha) { return TnqLaplaceError(alpha, 1.0, row.s); },
                    opts.spanLo * row.alpha, opts.spanHi * row.alpha, opts);
    CHECK(std::fabs(std::log(m.alpha / TnqAlphaStar(1.0, row.s))) < opts.logResolution);
    CHECK(m.value == Approx(TnqErrorStar(1.0, row.s)).epsilon(1e-3));  // to 1e-3
    CHECK(m.evaluations < 40);
  }
}

TEST_CASE("MeasureTnq equals the real tnq quantizer's encode and decode", "[optimize]") {
  const LayerInfo layer = test::Layer({50, 40}, "w", 3);
  const std::vector<arma::fvec> slabs = {test::LaplaceSlab(layer.n, 0.2, 1),
                                         test::LaplaceSlab(layer.n, 0.3, 2),
                                         test::GaussianSlab(layer.n, 0.1, 3)};
  for (double alpha : {0.05, 0.4, std::nan("")}) {
    INFO("alpha " << alpha);
    const std::string a = std::isnan(alpha) ? "auto" : FormatReal(alpha);
    const auto q = BuiltinRegistry().Make("tnq:alpha=" + a + ",bits=3");
    double err = 0, norm = 0;
    for (std::uint64_t r = 0; r < 3; ++r) {
      SlabContext ctx = test::Context(layer, 40 + r, 7, 3);
      const GroupResult out = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
      for (std::size_t w = 0; w < slabs.size(); ++w) {
        err += arma::accu(arma::square(arma::conv_to<arma::vec>::from(out.workers[w]) -
                                       arma::conv_to<arma::vec>::from(slabs[w])));
        if (r == 0) norm += arma::accu(arma::square(arma::conv_to<arma::vec>::from(slabs[w])));
      }
    }
    const TnqError e = MeasureTnq(slabs, TnqTrials{&layer, 7, 40, 3}, 3, alpha);
    CHECK(e.nmse == Approx(err / (3 * norm)).epsilon(1e-12));
  }
}

TEST_CASE(
    "On Laplace data the measured optimum is the exact-error optimum 11-13% above the "
    "closed form which costs under 3%",
    "[optimize][slow]") {
  // docs/quantizers.md#tnq: the model f(α) charges rounding spacing²/4 where the mean is about
  // spacing²/6, so the measured error of tnq's levels is minimised above α*: the exact optimum
  // (numerical integration of tnq_theory's TruncationError + RoundingVariance) is 1.134 α* at
  // s = 3 and 1.117 α* at s = 7. Sample noise: over 20 samples of n = 2·10^5 the argmin of the
  // exact conditional error has SD 0.4% (s = 3) and 1.0% (s = 7) of α*; the search adds its
  // resolution (1%). Tolerances: resolution + 5 SD.
  const std::size_t n = 200000;
  const LayerInfo layer = test::Layer({n});
  const std::vector<arma::fvec> slabs = {test::LaplaceSlab(n, 1.0, 2024)};  // 7..10 pass too
  const TnqTrials where{&layer, 0, 11, 2};
  const ThresholdOptions opts;
  struct Case {
    std::uint32_t bits;
    double tol;
    double se;  // SE of the measured error per coordinate at α* (exact moments, n, R = 2)
  };
  for (const Case& c : {Case{2, 0.01 + 5 * 0.004, 0.00437}, Case{3, 0.01 + 5 * 0.010, 0.00221}}) {
    const std::uint32_t s = (1u << c.bits) - 1;
    INFO("s " << s);
    const ThresholdRow r = AnalyzeThresholds(slabs, where, c.bits, opts);
    const double gamma = static_cast<float>(r.fit.gamma);  // the γ̂ tnq's levels use
    const LogMinimum exact =
        MinimizeLog([&](double alpha) { return LaplaceExactError(alpha, gamma, s); },
                    0.8 * r.closed.alpha, 1.6 * r.closed.alpha, opts);
    CHECK(std::fabs(std::log(r.search.alpha / exact.alpha)) < c.tol);
    CHECK(std::log(r.search.alpha / r.closed.alpha) > c.tol);       // the closed form is off...
    CHECK(r.closed.measured.nmse < 1.03 * r.search.measured.nmse);  // ...but cheap
    CHECK(r.search.measured.nmse <= r.closed.measured.nmse);
    // Measured error at α* against the exact Laplace value (5 SE) and below the model f(α*),
    // which over-charges the rounding by 6-26% (docs/quantizers.md#tnq).
    const double measured = r.closed.measured.nmse * r.fit.meanSquare;
    CHECK(std::fabs(measured - LaplaceExactError(r.closed.alpha, gamma, s)) < 5 * c.se);
    const double model = TnqLaplaceError(r.closed.alpha, r.fit.gamma, s);
    CHECK(measured < model);
    CHECK(measured > 0.7 * model);
    CHECK(r.closed.predicted == Approx(model / r.fit.meanSquare));
    // The threshold-condition root on the sample's own law recovers α* (the root for the true law).
    CHECK(std::fabs(std::log(r.empiricalPdf.alpha / r.closed.alpha)) < 0.05);
    CHECK(r.fit.ksLaplace < r.fit.ksGauss);
    // Trunc + quant is the total: a clipped value sits on an end level and is never moved.
    CHECK(r.closed.measured.trunc + r.closed.measured.quant ==
          Approx(r.closed.measured.nmse).epsilon(1e-6));
  }
}

TEST_CASE("On Gaussian data the general-condition threshold beats the Laplace closed form",
          "[optimize][slow]") {
  // The threshold condition for N(0, σ²) against 3γ̂ ln(1 + s/a), both measured in tnq: exact
  // errors per coordinate (σ = 1, tnq's levels) 0.0752 vs 0.0606 at s = 7 and 0.0249 vs 0.0179 at s
  // = 15; the SE of the paired difference at n = 2·10^5, R = 4 is 3.5e-4 and 1.4e-4 (41 and 51 SE).
  // Required: 20 SE.
  const std::size_t n = 200000;
  const LayerInfo layer = test::Layer({n});
  const std::vector<arma::fvec> slabs = {test::GaussianSlab(n, 1.0, 77)};
  const TnqTrials where{&layer, 0, 5, 4};
  const PooledFit fit = FitPooled(slabs);
  CHECK(fit.ksGauss < fit.ksLaplace);
  for (const auto& [bits, se] : {std::pair<std::uint32_t, double>{3, 3.5e-4}, {4, 1.4e-4}}) {
    INFO("bits " << bits);
    const std::uint32_t s = (1u << bits) - 1;
    const double gauss = GaussianThreshold(fit.sigma, s), closed = TnqAlphaStar(fit.gamma, s);
    CHECK(gauss == Approx(TnqOptimalThreshold(GaussianPdf(fit.sigma), s)));
    CHECK(gauss < closed);
    const double diff =
        MeasureTnq(slabs, where, bits, closed).nmse - MeasureTnq(slabs, where, bits, gauss).nmse;
    CHECK(diff * fit.meanSquare > 20 * se);
  }
}

TEST_CASE(
    "The empirical-pdf threshold solves the §3.9 condition for Laplace and Gaussian "
    "samples",
    "[optimize]") {
  // n = 10^5: the log-scale kernel estimate puts the root within a few % of the exact law's.
  const std::size_t n = 100000;
  for (std::uint32_t s : {3u, 7u, 15u}) {
    INFO("s " << s);
    const EmpiricalMagnitudes lap({test::LaplaceSlab(n, 2.0, 9)});
    CHECK(std::fabs(std::log(EmpiricalOptimalThreshold(lap, s) / TnqAlphaStar(2.0, s))) < 0.05);
    const EmpiricalMagnitudes gau({test::GaussianSlab(n, 0.5, 9)});
    CHECK(std::fabs(std::log(EmpiricalOptimalThreshold(gau, s) /
                             TnqOptimalThreshold(GaussianPdf(0.5), s))) < 0.05);
  }
  // Exact tail moments: mean (|g| − α)_+ and mean (|g| − α)_+² of {0, ±1, 3}.
  const EmpiricalMagnitudes m({arma::fvec{0.0f, 1.0f, -1.0f, 3.0f}});
  CHECK(m.TailMean(0.5) == Approx((0.5 + 0.5 + 2.5) / 4));
  CHECK(m.TruncationError(0.5) == Approx((0.25 + 0.25 + 6.25) / 4));
  CHECK(m.TailMean(3.0) == 0.0);
  // All zeros: no density, no threshold.
  const EmpiricalMagnitudes zeros({arma::fvec(10, arma::fill::zeros)});
  CHECK(std::isnan(EmpiricalOptimalThreshold(zeros, 3)));
}

TEST_CASE("An all-zero record gives NaN thresholds and no error", "[optimize]") {
  const LayerInfo layer = test::Layer({16});
  const ThresholdRow r = AnalyzeThresholds({arma::fvec(16, arma::fill::zeros)},
                                           TnqTrials{&layer, 0, 0, 2}, 2, ThresholdOptions{});
  CHECK(std::isnan(r.closed.alpha));
  CHECK(std::isnan(r.search.measured.nmse));
}

}  // namespace gradquant
