// Error feedback (pipeline/error_feedback.hpp) around real quantizers: the identities the
// mechanism promises, the sign-output rule, and that compress/decompress carry it bit for bit
// on any thread count.
#include "gradquant/pipeline/error_feedback.hpp"

#include <H5Cpp.h>
#include <omp.h>

#include <catch2/catch.hpp>

#include "gradquant/core/error.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/stats/error_metrics.hpp"
#include "laplace_dump.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kWorkers = 3;

// Worker w's gradient at record t: a direction shared by every record and worker (which a
// biased method keeps missing) plus fresh Laplace noise.
std::vector<arma::fvec> Gradients(std::size_t n, std::size_t t) {
  const arma::fvec common = test::LaplaceSlab(n, 0.01, 999);
  std::vector<arma::fvec> g;
  for (std::size_t w = 0; w < kWorkers; ++w) {
    g.push_back(arma::fvec(common + test::LaplaceSlab(n, 0.01, 100 * t + w)));
  }
  return g;
}

// Runs @p records rounds of @p spec under @p mode on one layer and returns the memory.
struct Chain {
  FeedbackMemory memory;
  std::vector<Round> rounds;
};

Chain RunChain(const std::string& spec, Feedback mode, const LayerInfo& layer,
               std::size_t records) {
  const auto q = BuiltinRegistry().Make(spec);
  Chain chain{FeedbackMemory(mode, *q, kWorkers, layer.n), {}};
  const auto state = q->NewLayerState(layer);
  for (std::size_t t = 0; t < records; ++t) {
    const ItemTruth truth(Gradients(layer.n, t));
    chain.rounds.push_back(
        RunRound(*q, truth, ItemContext(layer, 7, t, kWorkers, state.get()), {}, &chain.memory));
  }
  return chain;
}

double Norm(const arma::vec& v) { return arma::norm(v); }

}  // namespace

TEST_CASE("classic feedback: the accumulated error telescopes to -mean_w e", "[feedback]") {
  // With a mean aggregate, Σ_t (mean_w Q(p_w) − ḡ_t) = mean_w Σ_t (e_t − e_{t+1}) = −mean_w e_T.
  const LayerInfo layer = test::Layer({2000});
  for (const std::string spec : {"topk:kappa=0.02", "qsgd:s=15,bucket=128", "randk:kappa=0.5"}) {
    DYNAMIC_SECTION(spec) {
      const Chain c = RunChain(spec, Feedback::kClassic, layer, 25);
      arma::vec meanE(layer.n, arma::fill::zeros);
      for (const auto& e : c.memory.WorkerMemory()) meanE += arma::conv_to<arma::vec>::from(e);
      meanE /= static_cast<double>(kWorkers);
      // float32 memory over 25 records: agreement to float rounding of the gradients' scale.
      CHECK(Norm(c.memory.Accumulated() + meanE) < 1e-5 * Norm(meanE) + 1e-6);
      CHECK(c.rounds.back().feedback.accErrorSq ==
            Approx(arma::dot(c.memory.Accumulated(), c.memory.Accumulated())));
    }
  }
}

TEST_CASE("classic feedback bounds Top-K's accumulated error; without it the error grows",
          "[feedback]") {
  const LayerInfo layer = test::Layer({2000});
  const Chain none = RunChain("topk:kappa=0.1", Feedback::kNone, layer, 40);
  const Chain classic = RunChain("topk:kappa=0.1", Feedback::kClassic, layer, 40);
  const auto acc = [](const Chain& c, std::size_t t) { return c.rounds[t].feedback.accErrorSq; };
  // Without memory Top-K misses most of the shared direction at every record: ||A_T|| ~ T.
  CHECK(acc(none, 39) > 3.0 * acc(none, 19));
  CHECK(acc(classic, 39) < 0.1 * acc(none, 39));
  // With it, ||A_T|| = ||mean_w e_T|| stays at the memory's size (2.5 and 2.6 here).
  CHECK(acc(classic, 39) < 1.5 * acc(classic, 19));
  // The residual entering a record is the memory left by the previous one.
  for (std::size_t t = 1; t < classic.rounds.size(); ++t) {
    double left = 0;
    for (double e : classic.rounds[t - 1].errorSq) left += e;
    CHECK(classic.rounds[t].feedback.residualSq == Approx(left).epsilon(1e-4));
  }
  CHECK(none.rounds.back().feedback.residualSq == 0.0);
}

TEST_CASE("classic feedback keeps a sign vector's residual with the worker's scale ||p||_1/d",
          "[feedback]") {
  const LayerInfo layer = test::Layer({500});
  const Chain c = RunChain("sign", Feedback::kClassic, layer, 2);
  // After record 1 the memory is p − (||p||₁/d) sign(p), p = g_1 + e_1.
  const Chain one = RunChain("sign", Feedback::kClassic, layer, 1);
  const std::vector<arma::fvec> g = Gradients(layer.n, 1);
  for (std::size_t w = 0; w < kWorkers; ++w) {
    const arma::fvec p = g[w] + one.memory.WorkerMemory()[w];
    const arma::fvec o = arma::sign(p);
    const double scale = arma::accu(arma::abs(arma::conv_to<arma::vec>::from(p))) /
                         static_cast<double>(arma::accu(o != 0));
    const arma::fvec expected = p - static_cast<float>(scale) * o;
    CHECK(arma::norm(c.memory.WorkerMemory()[w] - expected) <= 1e-5 * arma::norm(expected));
  }
}

TEST_CASE("ef21: h and H follow the decoded messages, and fp32 makes the round exact",
          "[feedback]") {
  const LayerInfo layer = test::Layer({40, 25});
  SECTION("fp32: x = g − h and h = g after every record, so the server applies ḡ exactly") {
    const Chain c = RunChain("fp32", Feedback::kEf21, layer, 5);
    const std::vector<arma::fvec> g = Gradients(layer.n, 4);
    for (std::size_t w = 0; w < kWorkers; ++w) {
      CHECK(arma::norm(c.memory.WorkerMemory()[w] - g[w]) <= 1e-6 * arma::norm(g[w]));
    }
    CHECK(c.rounds.back().aggErrorSq <= 1e-10 * SquaredNorm(MeanOf(g)));
  }
  SECTION("powersgd and topk: the applied H is the mean of the h_w") {
    for (const std::string spec : {"powersgd:rank=2", "topk:kappa=0.05"}) {
      const Chain c = RunChain(spec, Feedback::kEf21, layer, 6);
      const GroupResult& held = c.rounds.back().decoded;
      const arma::fvec meanH = MeanOf(c.memory.WorkerMemory());
      CHECK(arma::norm(held.aggregate - meanH) <= 1e-5 * arma::norm(meanH));
      for (std::size_t w = 0; w < kWorkers; ++w) {
        CHECK(test::SameBits(held.workers[w], c.memory.WorkerMemory()[w]));
      }
    }
  }
}

TEST_CASE("error feedback refuses what it cannot do and parses its modes", "[feedback]") {
  const auto sign = BuiltinRegistry().Make("sign");
  const auto s3 = BuiltinRegistry().Make("s3gdmv");
  CHECK_THROWS_AS(CheckFeedback(Feedback::kEf21, *sign), SpecError);
  CHECK_THROWS_AS(FeedbackMemory(Feedback::kEf21, *s3, 2, 10), SpecError);
  CHECK_NOTHROW(CheckFeedback(Feedback::kClassic, *sign));
  CHECK(ParseFeedback("ef21") == Feedback::kEf21);
  CHECK(std::string(FeedbackName(ParseFeedback("classic"))) == "classic");
  CHECK_THROWS_AS(ParseFeedback("EF21"), SpecError);
}

namespace {

void WriteDump(const std::string& path) {
  test::WriteLaplaceDump(path, {test::Layer({300007}, "big", 0), test::Layer({60, 50}, "fc", 1)},
                         {0, 10, 20, 30});
}

}  // namespace

TEST_CASE("compress under feedback: same bytes on 1 and 2 threads, decompress replays ef21",
          "[feedback][pipeline]") {
  test::TempDir dir;
  const std::string input = dir / "in.h5";
  WriteDump(input);
  const Dump dump = Dump::Open({input});
  const Selection all = Select(dump.Layers(), dump.Records(), "", "");
  const int saved = omp_get_max_threads();
  for (const std::string spec : {"topk:kappa=0.01", "powersgd:rank=1"}) {
    for (const Feedback mode : {Feedback::kClassic, Feedback::kEf21}) {
      DYNAMIC_SECTION(spec << " " << FeedbackName(mode)) {
        const auto q = BuiltinRegistry().Make(spec);
        std::vector<std::vector<LayerTotals>> totals;
        for (int threads : {1, 2}) {
          omp_set_num_threads(threads);
          CompressOptions options;
          options.seed = 3;
          options.feedback = mode;
          options.outPath = dir / ("out" + std::to_string(threads) + ".h5");
          totals.push_back(RunCompress(dump, *q, all, options));
        }
        omp_set_num_threads(saved);
        const std::string one = dir / "out1.h5", two = dir / "out2.h5", back = dir / "back.h5";
        RunDecompress(one, back, {});
        const Dump a = Dump::Open({one}), b = Dump::Open({two}), d = Dump::Open({back});
        for (std::size_t l = 0; l < dump.Layers().size(); ++l) {
          const LayerInfo& layer = dump.Layers()[l];
          CHECK(test::SameBits(totals[0][l].accErrorSq, totals[1][l].accErrorSq));
          CHECK(test::SameBits(totals[0][l].residualSq, totals[1][l].residualSq));
          if (l == 1) CHECK(totals[0][l].residualSq > 0);  // rank 1 is exact on a vector
          for (std::size_t r = 0; r < dump.Records(); ++r) {
            for (std::size_t w = 0; w < 2; ++w) {
              CHECK(test::SameBits(a.ReadSlab(l, r, w), b.ReadSlab(l, r, w)));
              CHECK(test::SameBits(a.ReadSlab(l, r, w), d.ReadSlab(l, r, w)));
            }
            CHECK(test::SameBits(test::ReadAggregate(one, layer, r),
                                 test::ReadAggregate(back, layer, r)));
          }
        }
      }
    }
  }
}

TEST_CASE("the stored feedback mode is bound by the checksums", "[feedback][pipeline]") {
  test::TempDir dir;
  const std::string input = dir / "in.h5", out = dir / "out.h5";
  WriteDump(input);
  const Dump dump = Dump::Open({input});
  const auto q = BuiltinRegistry().Make("topk:kappa=0.01");
  CompressOptions options;
  options.feedback = Feedback::kEf21;
  options.outPath = out;
  RunCompress(dump, *q, Select(dump.Layers(), dump.Records(), "", ""), options);
  {
    // An edit to classic would decode the messages without EF21's h and H: a silently wrong
    // reconstruction, unless the checksum notices.
    H5::H5File file(out, H5F_ACC_RDWR);
    file.removeAttr("error_feedback");
    const H5::StrType type(H5::PredType::C_S1, 7);
    file.createAttribute("error_feedback", type, H5::DataSpace(H5S_SCALAR))
        .write(type, std::string("classic"));
  }
  CHECK_THROWS_AS(RunDecompress(out, dir / "back.h5", {}), FormatError);
}

}  // namespace gradquant
