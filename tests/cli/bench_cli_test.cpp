// gradquant bench end to end: the documented columns, specs that contain commas, dumps whose
// path contains a comma, and bits that agree with compress. Timings are not checked here
// (they live in bench/RESULTS.md); only that they are positive numbers.
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "cli/cli_util.hpp"
#include "cli/report_parse.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

const std::string kSample = test::SourcePath("data/fmnist_cnn.h5");
const std::vector<std::string> kBenchColumns = {"quantizer",      "n",           "threads",
                                                "bits_per_coord", "encode_gbps", "decode_gbps",
                                                "membw_gbps",     "encode_frac", "decode_frac"};

TEST_CASE("bench times each -q spec whole, commas included, on synthetic data", "[cli]") {
  const auto r = test::RunGradquant(
      "bench --size 65536 --repeat 1 --membw-mib 16 -q qsgd:coding=fixed,bucket=512 "
      "-q topk:kappa=0.01 --format csv");
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  const test::CsvReport report = test::ParseCsv(r.out);
  CHECK(report.columns == kBenchColumns);
  REQUIRE(report.rows.size() == 2);
  CHECK(report.rows[0].at("quantizer") == "qsgd:bucket=512,coding=fixed,norm=l2,s=7");
  CHECK(report.rows[1].at("quantizer").rfind("topk:", 0) == 0);
  for (const auto& row : report.rows) {
    CHECK(row.at("n") == "65536");
    CHECK(row.at("threads") == "1");
    for (const char* c : {"encode_gbps", "decode_gbps", "membw_gbps", "encode_frac"}) {
      INFO(c);
      CHECK(std::stod(row.at(c)) > 0.0);
    }
  }
  // Fixed coding: 3 bits per value (s = 7 and a sign) plus one fp32 norm per 512 values.
  CHECK(std::stod(report.rows[0].at("bits_per_coord")) == Approx(4.0 + 32.0 / 512).epsilon(1e-6));
}

TEST_CASE("bench on a dump whose path contains a comma reports its bits as compress does",
          "[cli]") {
  test::TempDir dir;
  const std::string dump = dir / "run,1.h5";
  std::filesystem::copy_file(kSample, dump);
  const auto bench =
      test::RunGradquant("bench '" + dump + "' --repeat 1 --membw-mib 16 -q dqsg:s=3 --format csv");
  INFO(bench.err);
  REQUIRE(bench.exitCode == 0);
  const auto compress = test::RunGradquant("compress '" + dump + "' -q dqsg:s=3 -o " +
                                           (dir / "c.h5") + " --format csv");
  INFO(compress.err);
  REQUIRE(compress.exitCode == 0);
  const test::CsvReport b = test::ParseCsv(bench.out), c = test::ParseCsv(compress.out);
  REQUIRE(b.rows.size() == 1);
  CHECK(b.rows[0].at("bits_per_coord") == c.rows.back().at("bits_per_coord"));
}

}  // namespace
}  // namespace gradquant
