// `--ef` end to end on the sample: analyze runs every quantizer under every mode, its trial 0
// is what compress computes under the same mode, and bad modes are usage errors.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "report_parse.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

std::string Sample() { return test::SourcePath("data/fmnist_cnn.h5"); }

double Number(const std::map<std::string, std::string>& row, const std::string& column) {
  return std::strtod(row.at(column).c_str(), nullptr);
}

}  // namespace

TEST_CASE("analyze --ef: one row set per mode, measured only under --ef", "[cli][feedback]") {
  const auto r = test::RunGradquant("analyze " + Sample() +
                                    " -q topk:kappa=0.01 -q sign --ef none,classic --by layer "
                                    "--report quantizers --trials 2 --format csv");
  REQUIRE(r.exitCode == 0);
  const test::CsvReport report = test::ParseCsv(r.out);
  CHECK(report.meta.find("ef=none,classic") != std::string::npos);
  REQUIRE(report.rows.size() == 2 * 2 * 8);  // quantizers × modes × layers
  CHECK(report.rows[0].at("ef") == "none");
  CHECK(report.rows[8].at("ef") == "classic");
  CHECK(report.rows[16].at("quantizer") == "sign:ties=zero");
  for (std::size_t i = 0; i < 8; ++i) {
    INFO(report.rows[i].at("layer"));
    CHECK(Number(report.rows[i], "ef_residual") == 0.0);
    CHECK(Number(report.rows[8 + i], "ef_residual") > 0.0);
    CHECK(Number(report.rows[i], "acc_nmse") > 0.0);
  }
  const auto plain = test::RunGradquant("analyze " + Sample() +
                                        " -q topk:kappa=0.01 --report quantizers --trials 2 "
                                        "--format csv");
  REQUIRE(plain.exitCode == 0);
  const test::CsvReport without = test::ParseCsv(plain.out);
  REQUIRE(without.rows.size() == 8);
  CHECK(without.rows[0].at("ef") == "none");
  CHECK(without.rows[0].at("acc_nmse").empty());
  // Mode none runs the same bits as no --ef.
  CHECK(without.rows[3].at("bits") == report.rows[3].at("bits"));
  CHECK(without.rows[3].at("agg_nmse") == report.rows[3].at("agg_nmse"));
}

TEST_CASE("analyze's trial 0 under --ef is compress under --ef", "[cli][feedback]") {
  test::TempDir dir;
  for (const std::string mode : {"classic", "ef21"}) {
    DYNAMIC_SECTION(mode) {
      const std::string q = " -q powersgd:rank=1 --ef " + mode + " --seed 4 --format csv";
      const auto c = test::RunGradquant("compress " + Sample() + q + " -o " + dir / "c.h5");
      const auto a = test::RunGradquant("analyze " + Sample() + q +
                                        " --trials 1 --report quantizers --by layer");
      REQUIRE(c.exitCode == 0);
      REQUIRE(a.exitCode == 0);
      const test::CsvReport cr = test::ParseCsv(c.out), ar = test::ParseCsv(a.out);
      REQUIRE(ar.rows.size() == 8);
      for (std::size_t l = 0; l < 8; ++l) {
        INFO(ar.rows[l].at("layer"));
        CHECK(cr.rows[l].at("ef") == mode);
        CHECK(Number(cr.rows[l], "agg_nmse") == Approx(Number(ar.rows[l], "agg_nmse")));
        CHECK(Number(cr.rows[l], "acc_nmse") == Approx(Number(ar.rows[l], "acc_nmse")));
        CHECK(Number(cr.rows[l], "ef_residual") == Approx(Number(ar.rows[l], "ef_residual")));
        CHECK(Number(cr.rows[l], "nmse") == Approx(Number(ar.rows[l], "nmse")));
      }
    }
  }
}

TEST_CASE("a bad --ef is a usage error before any output", "[cli][feedback]") {
  test::TempDir dir;
  const std::string out = dir / "o.h5";
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"analyze " + Sample() + " -q sign --ef classic,bogus", "error feedback 'bogus'"},
           {"analyze " + Sample() + " -q sign --ef none,none", "given twice"},
           {"analyze " + Sample() + " -q topk -q sign --ef ef21", "sign output"},
           {"compress " + Sample() + " -q s3gdmv --ef ef21 -o " + out, "sign output"},
           {"compress " + Sample() + " -q topk --ef classic,none -o " + out, "expected one mode"},
           {"optimize " + Sample() + " --part frontier --ef EF21", "expected none, classic"}}) {
    INFO(c.args);
    const auto r = test::RunGradquant(c.args);
    CHECK(r.exitCode == 1);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.out.empty());
  }
  CHECK_FALSE(std::filesystem::exists(out));
}

}  // namespace gradquant
