// The budget search of `optimize`: exact bits never above the budget, known answers found, the
// evaluation equal to what `compress` measures, streamed item by item and the same on any
// number of threads.
#include "gradquant/optimize/frontier.hpp"

#include <omp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "optimize_test_util.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// Laplace slabs whose scale differs by layer, record and worker, made again on every read.
SlabSet Synthetic(const std::vector<std::vector<std::uint64_t>>& shapes, std::size_t records,
                  std::size_t workers) {
  SlabSet set;
  set.workers = workers;
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    set.layers.push_back(
        test::Layer(shapes[l], "layer" + std::to_string(l), static_cast<std::uint32_t>(l)));
  }
  for (std::size_t r = 0; r < records; ++r) set.steps.push_back(10 * r);
  set.read = [layers = set.layers, workers](std::size_t l, std::size_t r) {
    std::vector<arma::fvec> group;
    for (std::size_t w = 0; w < workers; ++w) {
      // A shared signal plus worker noise, so the workers agree as real gradients do.
      const arma::fvec common = test::LaplaceSlab(layers[l].n, 0.01 * (l + 1), 100 * l + r);
      group.push_back(common + test::LaplaceSlab(layers[l].n, 0.004, 10000 + 100 * l + 10 * r + w));
    }
    return group;
  };
  return set;
}

}  // namespace

TEST_CASE("The budget search never returns a spec whose exact bits exceed the budget",
          "[optimize]") {
  const SlabSet set = Synthetic({{4, 1, 3, 3}, {20, 30}, {30}}, 2, 4);
  const std::vector<double> budgets = {0.5, 1, 2, 3.3, 6};
  FrontierOptions opts;
  opts.seed = 3;
  const auto entries = SearchFrontier(set, budgets, FrontierFamilies(), opts);
  REQUIRE(entries.size() == budgets.size() * FrontierFamilies().size());
  std::size_t feasible = 0;
  for (const FrontierEntry& e : entries) {
    INFO("budget " << e.budget << " family " << e.family << " spec " << e.spec);
    if (!e.feasible) {
      CHECK(!e.reason.empty());
      continue;
    }
    ++feasible;
    CHECK(e.reason.empty());
    // Re-run the canonical spec from scratch: the same exact bits, within the budget.
    const auto q = BuiltinRegistry().Make(e.spec);
    CHECK(q->Spec() == e.spec);
    const RateDistortion again = Evaluate(set, *q, opts.seed);
    CHECK(again.bits == e.result.bits);
    CHECK(static_cast<double>(again.bits) <= e.budget * again.coords);
    CHECK(again.AggNmse() == e.result.AggNmse());
    if (e.family == "ndqsg") CHECK(e.result.overloadPred <= opts.overloadTolerance);
  }
  CHECK(feasible > budgets.size() * 4);  // most families fit most budgets
}

TEST_CASE("The budget search finds the known best DQSG step count", "[optimize]") {
  // DQSG's error D·max|g|²/(12 s²) falls with s and its bits are n·ceil(log2(2s+1)) + 32 per
  // slab, so the best spec within B bits/coord is the largest s with
  // ceil(log2(2s+1)) + 32/n <= B. n = 1000: 32/n = 0.032.
  const SlabSet set = Synthetic({{1000}}, 2, 3);
  const std::vector<std::pair<double, int>> cases = {{2.0, 0}, {2.04, 1}, {3.0, 1},  {3.5, 3},
                                                     {4.0, 3}, {5.0, 7},  {8.5, 127}};
  std::vector<double> budgets;
  for (const auto& c : cases) budgets.push_back(c.first);
  const auto entries = SearchFrontier(set, budgets, {"dqsg"}, FrontierOptions{});
  REQUIRE(entries.size() == cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("budget " << cases[i].first);
    const int s = cases[i].second;
    CHECK(entries[i].feasible == (s > 0));
    if (s > 0) {
      CHECK(entries[i].spec == "dqsg:bucket=0,s=" + std::to_string(s));
    } else {
      CHECK(entries[i].reason.find("needs 2.032 bits/coord") != std::string::npos);
    }
  }
}

TEST_CASE("The budget search takes the best of a family and not merely the largest setting",
          "[optimize]") {
  // TernGrad's error ||g||_inf ||g||_1 − ||g||² per bucket shrinks with the bucket while its
  // bits grow: per bucket of b, 32 + 2b (2bit) or 32 + 8·ceil(b/5) (base3). n = 4096, budget
  // 2.3 bits/coord: 2bit fits down to b = 128 (2.25; 64 needs 2.5), base3 down to b = 64
  // (136/64 = 2.125; 32 needs 2.75). The smaller bucket has less error, so base3 at 64 wins.
  const SlabSet set = Synthetic({{4096}}, 2, 3);
  const auto e = SearchFrontier(set, {2.3}, {"terngrad"}, FrontierOptions{}).at(0);
  CHECK(e.spec == "terngrad:bucket=64,clip=0,packing=base3,scale=own");
  CHECK(e.result.BitsPerCoord() <= 2.3);
}

TEST_CASE("A registered method without a search of its own is tried at its default spec",
          "[registry][optimize]") {
  // sign has no search in the frontier's table: it takes part through the registry alone.
  const SlabSet set = Synthetic({{64}}, 2, 2);
  const auto fits = SearchFrontier(set, {1.5}, {"sign"}, FrontierOptions{}).at(0);
  CHECK(fits.feasible);
  CHECK(fits.spec == BuiltinRegistry().Make("sign")->Spec());
  CHECK(fits.evaluations == 1);
  const auto tooFew = SearchFrontier(set, {0.5}, {"sign"}, FrontierOptions{}).at(0);
  CHECK_FALSE(tooFew.feasible);
}

TEST_CASE("The budget search rejects unknown families and non-positive budgets", "[optimize]") {
  const SlabSet set = Synthetic({{10}}, 1, 2);
  CHECK_THROWS_AS(SearchFrontier(set, {2.0}, {"qsdg"}, FrontierOptions{}), SpecError);
  CHECK_THROWS_AS(SearchFrontier(set, {0.0}, {"dqsg"}, FrontierOptions{}), SpecError);
}

TEST_CASE("Evaluate measures what compress reports on the sample dump", "[optimize][cli]") {
  const Dump dump = Dump::Open({test::SourcePath("data/fmnist_cnn.h5")});
  const SlabSet set = SelectSlabs(dump, Select(dump.Layers(), dump.Records(), "conv", "0:2"));
  test::TempDir dir;
  for (const std::string spec : {"dqsg:s=3", "gradiveq:lambda=0.05", "sign", "ndqsg:rho=4,s=2"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const RateDistortion rd = Evaluate(set, *q, 5);
    const auto run = test::RunGradquant(
        "compress " + test::SourcePath("data/fmnist_cnn.h5") + " -q " + spec +
        " --layers conv --records 0:2 --seed 5 --format csv -o " + (dir / "out.h5"));
    REQUIRE(run.exitCode == 0);
    const test::CsvTable table = test::ParseCsv(run.out);
    const auto& all = table.Row("layer", "*");
    CHECK(static_cast<double>(rd.bits) == std::stod(table.Get(all, "bits")));
    CHECK(rd.Nmse() == Approx(std::stod(table.Get(all, "nmse"))).epsilon(1e-12));
    CHECK(rd.AggNmse() == Approx(std::stod(table.Get(all, "agg_nmse"))).epsilon(1e-12));
  }
}

TEST_CASE("SelectSlabs reads the selected items from the dump on every call", "[optimize]") {
  const Dump dump = Dump::Open({test::SourcePath("data/fmnist_cnn.h5")});
  const Selection sel = Select(dump.Layers(), dump.Records(), "conv2", "1,4");
  const SlabSet set = SelectSlabs(dump, sel);
  REQUIRE(set.layers.size() == 2);  // conv2.weight, conv2.bias
  REQUIRE(set.steps.size() == 2);
  CHECK(set.workers == dump.Workers());
  for (std::size_t l = 0; l < 2; ++l) {
    CHECK(set.layers[l].name == dump.Layers()[sel.layers[l]].name);
    for (std::size_t r = 0; r < 2; ++r) {
      CHECK(set.steps[r] == static_cast<std::uint64_t>(dump.Steps()[sel.records[r]]));
      const auto item = set.Read(l, r);
      REQUIRE(item.size() == dump.Workers());
      for (std::size_t w = 0; w < item.size(); ++w) {
        CHECK(arma::approx_equal(item[w], dump.ReadSlab(sel.layers[l], sel.records[r], w),
                                 "absdiff", 0.0f));
      }
    }
  }
}

TEST_CASE("The budget search reads each item once per evaluation, the same on 1 and 2 threads",
          "[optimize]") {
  // Nothing is kept between passes: every evaluation reads all 4 × 2 items again. The sums are
  // added in item order, so the totals are equal (not merely close) at any thread count, though
  // on 2 threads the large first layer finishes after the small ones; gradiveq keeps layer
  // state (records in order), the others run items in parallel.
  const std::vector<std::string> families = {"dqsg", "qsgd", "topk", "gradiveq", "terngrad"};
  const int saved = omp_get_max_threads();
  std::vector<std::vector<FrontierEntry>> runs;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    SlabSet set = Synthetic({{100, 60}, {8, 1, 3, 3}, {40, 30}, {300}}, 2, 3);
    auto reads = std::make_shared<std::atomic<std::size_t>>(0);
    set.read = [inner = set.read, reads](std::size_t l, std::size_t r) {
      ++*reads;
      return inner(l, r);
    };
    runs.push_back(SearchFrontier(set, {1.5, 3}, families, FrontierOptions{}));
    std::size_t evaluations = 0;
    for (std::size_t i = 0; i < families.size(); ++i) evaluations += runs.back()[i].evaluations;
    CHECK(reads->load() == evaluations * 4 * 2);
  }
  omp_set_num_threads(saved);
  REQUIRE(runs[0].size() == runs[1].size());
  for (std::size_t i = 0; i < runs[0].size(); ++i) {
    const FrontierEntry &a = runs[0][i], &b = runs[1][i];
    INFO("budget " << a.budget << " family " << a.family);
    CHECK(a.spec == b.spec);
    CHECK(a.evaluations == b.evaluations);
    CHECK(a.result.bits == b.result.bits);
    CHECK(a.result.downlinkBits == b.result.downlinkBits);
    CHECK(a.result.errorSq == b.result.errorSq);
    CHECK(a.result.aggErrorSq == b.result.aggErrorSq);
    CHECK(a.result.normSq == b.result.normSq);
  }
}

}  // namespace gradquant
