// pipeline/analyze_job on synthetic dumps with known answers: gradient statistics, measured
// error against exact theory, bias against R, agreement with compress, and stateful methods.
#include "gradquant/pipeline/analyze_job.hpp"

#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "synthetic_dump.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kWorkers = 4;
constexpr std::size_t kN = 20000;

AnalyzeResult Analyze(const std::string& path, const std::vector<const Quantizer*>& qs,
                      std::size_t trials, GroupBy by, std::uint64_t seed = 1) {
  const Dump dump = Dump::Open({path});
  AnalyzeOptions opts;
  opts.seed = seed;
  opts.trials = trials;
  return Group(RunAnalyze(dump, qs, Select(dump.Layers(), dump.Records(), "", ""), opts), by);
}

const GradientResult& Row(const AnalyzeResult& r, const std::string& layer) {
  for (const auto& g : r.gradients) {
    if (g.key.layer == layer) return g;
  }
  FAIL("no gradient row for " << layer);
  return r.gradients.front();
}

// Layers: independent Gaussian workers, identical Laplace workers, the mixture
// g_w = a c + b e_w (corr a²/(a²+b²)), independent Laplace workers.
std::string StatsDump(const test::TempDir& dir) {
  const std::vector<LayerInfo> layers = {
      test::Layer({kN}, "independent", 0), test::Layer({100, kN / 100}, "identical", 1),
      test::Layer({kN}, "mixture", 2), test::Layer({kN}, "laplace", 3)};
  const std::string path = dir / "stats.h5";
  test::WriteDump(path, layers, 2, kWorkers, [](std::size_t l, std::size_t r, std::size_t w) {
    const std::uint64_t seed = test::SlabSeed(1, l, r, w);
    switch (l) {
      case 0:
        return test::GaussianSlab(kN, 0.03, seed);
      case 1:
        return test::LaplaceSlab(kN, 0.01, test::SlabSeed(1, l, r, 0));
      case 2:
        return arma::fvec(1.0f * test::GaussianSlab(kN, 1.0, test::SlabSeed(2, l, r, 99)) +
                          0.75f * test::GaussianSlab(kN, 1.0, seed));
      default:
        return test::LaplaceSlab(kN, 0.01, seed);
    }
  });
  return path;
}

}  // namespace

TEST_CASE("Gradient statistics of synthetic dumps match their known values", "[stats]") {
  test::TempDir dir;
  const std::string path = StatsDump(dir);
  const AnalyzeResult byLayer = Analyze(path, {}, 1, GroupBy::kLayer);
  REQUIRE(byLayer.gradients.size() == 4);

  SECTION("independent workers: correlations near 0") {
    // 2 records x 20000 coordinates: the SE of a correlation is 1/sqrt(40000) = 0.005.
    const GradientStats s = Row(byLayer, "independent").summary.Finish();
    CHECK(std::fabs(s.corrMean) < 0.025);
    CHECK(std::fabs(s.corrMin) < 0.025);
    CHECK(std::fabs(s.corrMax) < 0.025);
    CHECK(std::fabs(s.corrOthers) < 0.025);
    CHECK(s.topkJaccard < 0.02);  // independent sets: about K/(2n) = 0.005
    // Gaussian data: sigma within 1 % (SE 0.13 %), small KS to the Gaussian, large to Laplace.
    CHECK(s.gaussSigma == Approx(0.03).epsilon(0.01));
    CHECK(s.ksGauss < 0.006);
    CHECK(s.ksLaplace > 0.03);
    CHECK(std::fabs(s.kurtosis) < 0.1);  // SE sqrt(24/160000) = 0.012
    CHECK(s.corr.n_rows == kWorkers);
  }
  SECTION("identical workers: every agreement measure is 1") {
    const GradientStats s = Row(byLayer, "identical").summary.Finish();
    CHECK(s.corrMin == Approx(1.0).margin(1e-12));
    CHECK(s.corrMax == Approx(1.0).margin(1e-12));
    CHECK(s.corrOthers == Approx(1.0).margin(1e-12));
    CHECK(s.signAgree == 1.0);
    CHECK(s.signAgreeWeighted == 1.0);
    CHECK(s.topkJaccard == 1.0);
    CHECK(s.meanNorm == Approx(s.norm).epsilon(1e-9));
  }
  SECTION("mixture a c + b e_w: corr = a²/(a²+b²), with the others a²/sqrt(...)") {
    const double a2 = 1.0, b2 = 0.75 * 0.75;
    const double corr = a2 / (a2 + b2);
    const double others = a2 / std::sqrt((a2 + b2) * (a2 + b2 / (kWorkers - 1)));
    // SE of r near 0.64 is (1 - r²)/sqrt(n) = 0.003; 0.015 is 5 SE.
    const GradientStats s = Row(byLayer, "mixture").summary.Finish();
    CHECK(s.corrMean == Approx(corr).margin(0.015));
    CHECK(s.corrMin == Approx(corr).margin(0.015));
    CHECK(s.corrMax == Approx(corr).margin(0.015));
    CHECK(s.corrOthers == Approx(others).margin(0.015));
  }
  SECTION("Laplace data: fitted scale within tolerance, small KS, KS to Gauss larger") {
    const GradientStats s = Row(byLayer, "laplace").summary.Finish();
    // 160000 values: the SE of mean|g| is 0.25 % of b; 1.5 % is 6 SE.
    CHECK(s.laplaceScale == Approx(0.01).epsilon(0.015));
    CHECK(s.ksLaplace < 0.006);
    CHECK(s.ksGauss > 0.05);                       // 0.062 for exact Laplace data
    CHECK(s.kurtosis == Approx(3.0).margin(0.8));  // SE about 0.13
  }
  SECTION("--by record keeps one row per (layer, record); --by all pools exactly") {
    const AnalyzeResult byRecord = Analyze(path, {}, 1, GroupBy::kRecord);
    REQUIRE(byRecord.gradients.size() == 8);
    CHECK(byRecord.gradients[1].key.record == 1);
    CHECK(byRecord.gradients[1].key.step == 10);
    CHECK(byRecord.gradients[1].summary.Finish().topkK == 200);
    const AnalyzeResult all = Analyze(path, {}, 1, GroupBy::kAll);
    REQUIRE(all.gradients.size() == 1);
    const GradientSummary& s = all.gradients[0].summary;
    CHECK(all.gradients[0].key.layer == "*");
    CHECK(s.n == 4 * kN);
    CHECK(s.records == 2);
    double normSq = 0.0;
    for (const auto& g : byLayer.gradients) normSq += std::pow(g.summary.Finish().norm, 2);
    CHECK(s.Finish().norm == Approx(std::sqrt(normSq)).epsilon(1e-9));
    CHECK(std::isnan(s.Finish().topkK));
  }
}

namespace {

// One layer of Laplace workers, n = 3000, W = 2, 2 records.
std::string ErrorDump(const test::TempDir& dir) {
  const std::string path = dir / "error.h5";
  test::WriteDump(path, {test::Layer({3000}, "w", 0)}, 2, 2,
                  [](std::size_t l, std::size_t r, std::size_t w) {
                    return test::LaplaceSlab(3000, 0.01, test::SlabSeed(3, l, r, w));
                  });
  return path;
}

bool Registered(const std::string& spec) {
  const auto names = BuiltinRegistry().Names();
  return std::find(names.begin(), names.end(), spec.substr(0, spec.find(':'))) != names.end();
}

}  // namespace

TEST_CASE("Measured nmse is within its confidence interval of the exact theory", "[stats][slow]") {
  test::TempDir dir;
  const std::string path = ErrorDump(dir);
  // Methods with an exact E||Q(g) - g||²; names not registered in this build are skipped.
  for (const std::string spec :
       {"dqsg:s=3", "dqsg:s=1,bucket=100", "qsgd:s=4", "qsgd:s=2,bucket=64", "randk", "terngrad"}) {
    if (!Registered(spec)) {
      WARN("skipping " << spec << ": not registered");
      continue;
    }
    const auto q = BuiltinRegistry().Make(spec);
    const AnalyzeResult r = Analyze(path, {q.get()}, 100, GroupBy::kAll, 7);
    const QuantizerRow row = r.quantizers.at(0).tally.Finish();
    INFO(spec << ": nmse " << row.nmse << " ci " << row.nmseCi << " theory " << row.nmseTheory);
    REQUIRE(row.theoryKind == "exact");
    // The CI is a non-degenerate interval (Random-K's per-trial spread is the widest: about
    // sqrt(kurtosis/K) = 45 % for K = 30 on Laplace data, so 9 % at R = 100)...
    CHECK(row.nmseCi > 0.0);
    CHECK(row.nmseCi < 0.25 * row.nmseTheory);
    // ...and 2.5 half-widths are about 5 standard errors (t(99) = 1.98).
    CHECK(std::fabs(row.nmse - row.nmseTheory) <= 2.5 * row.nmseCi);
  }
}

TEST_CASE("Bias shrinks like 1/R for unbiased methods and not for biased ones", "[stats][slow]") {
  test::TempDir dir;
  const std::string path = ErrorDump(dir);
  auto bias = [&](const Quantizer& q, std::size_t trials, double* nmse) {
    const QuantizerRow row =
        Analyze(path, {&q}, trials, GroupBy::kAll, 3).quantizers.at(0).tally.Finish();
    *nmse = row.nmse;
    return row.bias;
  };
  for (const std::string spec : {"dqsg:s=3", "qsgd:s=4"}) {
    const auto q = BuiltinRegistry().Make(spec);
    double nmse10 = 0, nmse160 = 0;
    const double b10 = bias(*q, 10, &nmse10), b160 = bias(*q, 160, &nmse160);
    INFO(spec << ": bias(10) " << b10 << " bias(160) " << b160 << " nmse " << nmse160);
    // E bias = nmse/R for independent unbiased trials. bias sums 12000 squared means, so its
    // relative SD is about sqrt(2/12000) = 1.3 % (more with heavy tails): ±20 % is safe.
    CHECK(b10 * 10 / nmse10 == Approx(1.0).margin(0.2));
    CHECK(b160 * 160 / nmse160 == Approx(1.0).margin(0.2));
    CHECK(b10 / b160 > 10.0);
  }
  bool any = false;
  for (const std::string spec : {"topk", "tnq"}) {
    if (!Registered(spec)) continue;
    any = true;
    const auto q = BuiltinRegistry().Make(spec);
    double nmse10 = 0, nmse160 = 0;
    const double b10 = bias(*q, 10, &nmse10), b160 = bias(*q, 160, &nmse160);
    INFO(spec << ": bias(10) " << b10 << " bias(160) " << b160 << " nmse " << nmse160);
    CHECK(b160 > 0.5 * b10);            // does not fall like 1/R
    CHECK(b160 * 160 / nmse160 > 3.0);  // far above the unbiased nmse/R
  }
  if (!any) WARN("no biased method (topk, tnq) registered: that half is skipped");
}

TEST_CASE("Trial 0 reproduces compress with the same seed for every registered quantizer",
          "[stats]") {
  test::TempDir dir;
  const std::vector<LayerInfo> layers = {test::Layer({40, 30}, "a", 0), test::Layer({17}, "b", 1)};
  const std::string path = dir / "small.h5";
  test::WriteDump(path, layers, 3, 3, [](std::size_t l, std::size_t r, std::size_t w) {
    const std::size_t n = l == 0 ? 1200 : 17;
    return arma::fvec(test::LaplaceSlab(n, 0.1, test::SlabSeed(4, l, r, 99)) +
                      test::GaussianSlab(n, 0.05, test::SlabSeed(4, l, r, w)));
  });
  const Dump dump = Dump::Open({path});
  const Selection sel = Select(dump.Layers(), dump.Records(), "", "");
  for (const auto& name : BuiltinRegistry().Names()) {
    const auto q = BuiltinRegistry().Make(name);
    INFO(q->Spec());
    CompressOptions copts;
    copts.seed = 42;
    copts.outPath = dir / (name + ".h5");
    const auto totals = RunCompress(dump, *q, sel, copts);
    AnalyzeOptions aopts;
    aopts.seed = 42;
    aopts.trials = 1;
    const AnalyzeResult r = Group(RunAnalyze(dump, {q.get()}, sel, aopts), GroupBy::kLayer);
    REQUIRE(r.quantizers.size() == totals.size());
    for (std::size_t l = 0; l < totals.size(); ++l) {
      const QuantizerTally& t = r.quantizers[l].tally;
      CHECK(t.bits == static_cast<double>(totals[l].bits));
      CHECK(t.trialErrorSq[0] == Approx(totals[l].errorSq).epsilon(1e-12).margin(1e-300));
      CHECK(t.aggErrorSq == Approx(totals[l].aggErrorSq).epsilon(1e-12).margin(1e-300));
      CHECK(t.downlinkBits == static_cast<double>(totals[l].downlinkBits));
      if (totals[l].theoryKind != "none") {
        CHECK(t.theorySq == Approx(totals[l].theorySq).epsilon(1e-12).margin(1e-300));
      }
    }
  }
}

namespace {

// A stateful test method: the state counts the records observed; Encode sends the count and
// the values, ExpectedError reports the count, so the order of the calls shows in the numbers.
struct CountState : LayerState {
  int seen = 0;
};

class CountingQuantizer : public IndependentQuantizer {
 public:
  std::string Spec() const override { return "counting"; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override {
    BitWriter w;
    const int seen = static_cast<const CountState*>(ctx.state)->seen;
    w.PutFloat32(static_cast<float>(seen));
    for (float x : g) w.PutFloat32(x);
    if (stats) (*stats)["seen"] = seen;
    return w.Finish();
  }
  arma::fvec Decode(const Message& m, const SlabContext& ctx) const override {
    BitReader r(m, "counting");
    const float seen = r.GetFloat32();
    if (seen != static_cast<float>(static_cast<const CountState*>(ctx.state)->seen)) {
      r.Fail("decoder state differs from encoder state");
    }
    arma::fvec out(ctx.layer->n);
    for (auto& x : out) x = r.GetFloat32();
    r.ExpectEnd();
    return out;
  }
  Theory ExpectedError(const arma::fvec&, const SlabContext& ctx) const override {
    Theory t;
    t.exact = static_cast<const CountState*>(ctx.state)->seen;
    return t;
  }
  void Diagnose(const std::vector<arma::fvec>&, const GroupResult&, const SlabContext& ctx,
                SlabStats* stats) const override {
    (*stats)["diag_seen"] = static_cast<const CountState*>(ctx.state)->seen;
  }
  std::unique_ptr<LayerState> NewLayerState(const LayerInfo&) const override {
    return std::make_unique<CountState>();
  }
  void Observe(LayerState& state, const GroupResult&, const SlabContext&) const override {
    ++static_cast<CountState&>(state).seen;
  }
};

}  // namespace

TEST_CASE("analyze gives the same numbers, bit for bit, on 1 and 2 threads", "[stats]") {
  test::TempDir dir;
  const std::string path = StatsDump(dir);
  std::vector<std::unique_ptr<Quantizer>> owned;
  std::vector<const Quantizer*> qs;
  for (const char* spec : {"dqsg:s=3", "qsgd:bucket=512", "topk:kappa=0.01", "powersgd:rank=2",
                           "ndqsg:side=running", "gradiveq", "s3gdmv"}) {
    owned.push_back(BuiltinRegistry().Make(spec));
    qs.push_back(owned.back().get());
  }
  const int saved = omp_get_max_threads();
  omp_set_num_threads(1);
  const AnalyzeResult one = Analyze(path, qs, 3, GroupBy::kRecord);
  omp_set_num_threads(2);
  const AnalyzeResult two = Analyze(path, qs, 3, GroupBy::kRecord);
  omp_set_num_threads(saved);
  REQUIRE(one.quantizers.size() == two.quantizers.size());
  for (std::size_t i = 0; i < one.quantizers.size(); ++i) {
    const QuantizerTally &a = one.quantizers[i].tally, &b = two.quantizers[i].tally;
    INFO(qs[one.quantizers[i].quantizer]->Spec() << " " << one.quantizers[i].key.layer);
    CHECK(test::SameBits(a.bits, b.bits));
    CHECK(test::SameBits(a.idealBits, b.idealBits));
    CHECK(test::SameBits(a.downlinkBits, b.downlinkBits));
    CHECK(test::SameBits(a.normSq, b.normSq));
    CHECK(test::SameBits(a.aggNormSq, b.aggNormSq));
    CHECK(a.trialErrorSq == b.trialErrorSq);
    CHECK(test::SameBits(a.aggErrorSq, b.aggErrorSq));
    CHECK(test::SameBits(a.theorySq, b.theorySq));
    CHECK(test::SameBits(a.boundSq, b.boundSq));
    CHECK(a.theoryKind == b.theoryKind);
    CHECK(test::SameBits(a.biasSq, b.biasSq));
    CHECK(test::SameBits(a.cosineSum, b.cosineSum));
    CHECK(a.stats.size() == b.stats.size());
    for (const auto& [key, value] : a.stats) {
      CHECK(test::SameBits(value.first, b.stats.at(key).first));
    }
  }
  REQUIRE(one.gradients.size() == two.gradients.size());
  for (std::size_t i = 0; i < one.gradients.size(); ++i) {
    const GradientStats a = one.gradients[i].summary.Finish(),
                        b = two.gradients[i].summary.Finish();
    INFO(one.gradients[i].key.layer);
    for (auto field : {&GradientStats::norm, &GradientStats::meanNorm, &GradientStats::maxAbs,
                       &GradientStats::kurtosis, &GradientStats::ksLaplace, &GradientStats::ksGauss,
                       &GradientStats::corrMean, &GradientStats::corrOthers,
                       &GradientStats::signAgreeWeighted, &GradientStats::topkJaccard}) {
      CHECK(test::SameBits(a.*field, b.*field));
    }
    CHECK(arma::approx_equal(a.corr, b.corr, "absdiff", 0.0));
  }
}

TEST_CASE("Stateful methods: records in order, one state chain per trial, Observe last",
          "[stats]") {
  test::TempDir dir;
  const std::string path = dir / "state.h5";
  test::WriteDump(path, {test::Layer({10}, "a", 0), test::Layer({5}, "b", 1)}, 4, 2,
                  [](std::size_t l, std::size_t r, std::size_t w) {
                    return test::GaussianSlab(l ? 5 : 10, 1.0, test::SlabSeed(5, l, r, w));
                  });
  const CountingQuantizer q;
  const AnalyzeResult r = Analyze(path, {&q}, 3, GroupBy::kRecord);
  REQUIRE(r.quantizers.size() == 8);
  for (const auto& row : r.quantizers) {
    const QuantizerRow finished = row.tally.Finish();
    // Record k was encoded, diagnosed and given its theory with k records observed before it,
    // in every trial (a shared state would have seen k * trials), and per layer.
    CHECK(finished.stats.at("seen") == row.key.record);
    CHECK(finished.stats.at("diag_seen") == row.key.record);
    CHECK(row.tally.theorySq == Approx(2.0 * row.key.record));
    CHECK(finished.nmse == 0.0);
  }
}

}  // namespace gradquant

namespace gradquant {

TEST_CASE("Degenerate dumps: one worker and an all-zero layer give NaN, not a crash", "[stats]") {
  test::TempDir dir;
  const std::string path = dir / "degenerate.h5";
  test::WriteDump(path, {test::Layer({50}, "zero", 0), test::Layer({50}, "live", 1)}, 2, 1,
                  [](std::size_t l, std::size_t r, std::size_t) {
                    return l ? test::GaussianSlab(50, 1.0, test::SlabSeed(6, l, r, 0))
                             : arma::fvec(50, arma::fill::zeros);
                  });
  const auto q = BuiltinRegistry().Make("dqsg:s=2");
  const AnalyzeResult r = Analyze(path, {q.get()}, 4, GroupBy::kLayer);
  REQUIRE(r.quantizers.size() == 2);
  const QuantizerRow zero = r.quantizers[0].tally.Finish(), live = r.quantizers[1].tally.Finish();
  CHECK(std::isnan(zero.nmse));
  CHECK(std::isnan(zero.bias));
  CHECK(std::isnan(zero.cosine));
  CHECK(zero.bits == 32 + 50 * 3);  // the step and 50 three-bit symbols
  CHECK(std::isfinite(live.nmse));
  CHECK(live.aggNmse == Approx(live.nmse));  // one worker: the aggregate is its reconstruction
  const GradientStats zs = r.gradients[0].summary.Finish(), ls = r.gradients[1].summary.Finish();
  CHECK(zs.norm == 0.0);
  CHECK(std::isnan(zs.kurtosis));
  CHECK(std::isnan(zs.ksLaplace));
  CHECK(std::isnan(ls.corrMean));  // no pair of workers
  CHECK(std::isnan(ls.corrOthers));
  CHECK(std::isnan(ls.topkJaccard));
  CHECK(ls.signAgree == 1.0);  // a lone worker agrees with itself
  // Pooled over both layers, the whole model is defined again.
  const AnalyzeResult all = Analyze(path, {q.get()}, 4, GroupBy::kAll);
  CHECK(std::isfinite(all.quantizers[0].tally.Finish().nmse));
}

}  // namespace gradquant
