// `gradquant optimize` end to end on the sample dump: columns, exit codes, output shapes.
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "optimize_test_util.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

const std::string kDump = test::SourcePath("data/fmnist_cnn.h5");

bool HasColumns(const test::CsvTable& t, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    bool found = false;
    for (const auto& c : t.columns) found = found || c == n;
    if (!found) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("optimize prints both tables as CSV blocks with the documented columns", "[cli]") {
  const auto run = test::RunGradquant("optimize " + kDump +
                                      " --bits 2,3 --budget 2 --families dqsg,tnq,sign "
                                      "--layers 'conv1|fc2.bias' --records 0 --trials 2 "
                                      "--format csv");
  REQUIRE(run.exitCode == 0);
  const test::CsvTable thresholds = test::ParseCsv(run.out, 0);
  CHECK(HasColumns(
      thresholds,
      {"layer", "record", "bits", "gamma", "ks_laplace", "ks_gauss", "alpha_closed", "alpha_gauss",
       "alpha_empirical_pdf", "alpha_search", "nmse_closed", "nmse_gauss", "nmse_empirical_pdf",
       "nmse_search", "nmse_predicted_closed", "trunc_closed", "quant_closed"}));
  CHECK(thresholds.rows.size() == 3 * 2);  // conv1.weight, conv1.bias, fc2.bias × 2 bit budgets
  const auto& row = thresholds.Row("layer", "conv1.weight");
  CHECK(std::stod(thresholds.Get(row, "nmse_search")) <=
        std::stod(thresholds.Get(row, "nmse_closed")));
  const test::CsvTable frontier = test::ParseCsv(run.out, 1);
  CHECK(HasColumns(frontier, {"budget", "family", "feasible", "spec", "bits_per_coord", "nmse",
                              "agg_nmse", "reason"}));
  CHECK(frontier.rows.size() == 3);
  const auto& sign = frontier.Row("family", "sign");
  CHECK(frontier.Get(sign, "spec") == "sign:ties=zero");
  CHECK(std::stod(frontier.Get(sign, "bits_per_coord")) <= 2.0);
  const auto& dqsg = frontier.Row("family", "dqsg");  // 2 bits + 32 per slab do not fit 2
  CHECK(frontier.Get(dqsg, "feasible") == "no");
  CHECK(frontier.Get(dqsg, "spec").empty());
  CHECK(!frontier.Get(dqsg, "reason").empty());
}

TEST_CASE("optimize prints the same numbers on 1 and 2 threads", "[cli]") {
  // Both parts stream the dump item by item (the frontier from its temporary copy) and add their
  // sums in a fixed order.
  std::vector<std::string> outputs;
  for (const char* threads : {"1", "2"}) {
    const test::ScopedEnv omp("OMP_NUM_THREADS", threads);
    const auto run = test::RunGradquant("optimize " + kDump +
                                        " --bits 2,3 --budget 1,3 --families qsgd,topk,gradiveq "
                                        "--layers 'conv1|fc2' --records 1:3 --trials 2 "
                                        "--format csv");
    REQUIRE(run.exitCode == 0);
    outputs.push_back(run.out);
  }
  CHECK(test::ParseCsv(outputs[0], 0).rows.size() == 4 * 2 * 2);  // 4 layers, 2 records, 2 bits
  CHECK(outputs[0] == outputs[1]);
}

TEST_CASE("optimize --curve prints error against alpha with the four optima", "[cli]") {
  const auto run = test::RunGradquant("optimize " + kDump +
                                      " --curve conv1.weight --bits 3 --records 1 --trials 2 "
                                      "--curve-points 9 --format csv");
  REQUIRE(run.exitCode == 0);
  const test::CsvTable t = test::ParseCsv(run.out);
  CHECK(HasColumns(t, {"point", "alpha", "alpha_over_closed", "nmse", "nmse_predicted"}));
  CHECK(t.rows.size() == 9 + 4);
  CHECK(t.Get(t.Row("point", "closed"), "alpha_over_closed") == "1");
  CHECK(t.Get(t.Row("point", "search"), "record") == "1");
}

TEST_CASE("optimize JSON with both parts is one object", "[cli]") {
  const auto run = test::RunGradquant("optimize " + kDump +
                                      " --bits 2 --budget 4 --families sign --layers fc2.bias "
                                      "--records 0 --trials 1 --format json");
  REQUIRE(run.exitCode == 0);
  CHECK(run.out.rfind("{\"thresholds\": {\"meta\":", 0) == 0);
  CHECK(run.out.find(", \"frontier\": {\"meta\":") != std::string::npos);
}

TEST_CASE("optimize rejects bad options with exit code 1", "[cli]") {
  for (const std::string args : {"--part nope", "--bits 0", "--bits-range 4:2", "--budget x",
                                 "--families qsdg --part frontier", "--curve nolayer --bits 2",
                                 "--curve conv1.weight --bits 2,3", "--trials 0"}) {
    INFO(args);
    const auto run = test::RunGradquant("optimize " + kDump + " --records 0 " + args);
    CHECK(run.exitCode == 1);
    CHECK(run.err.find("gradquant: error:") == 0);
  }
  CHECK(test::RunGradquant("optimize /nonexistent.h5").exitCode == 2);
}

}  // namespace gradquant
