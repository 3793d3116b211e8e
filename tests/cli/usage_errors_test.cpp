// What a new user trips over on the command line: option errors in gradquant's own shape,
// one meaning of A:B, the selection a command reports, help that shows each default once, and
// a progress line that goes away.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>

#include "cli/report_parse.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

const std::string kSample = test::SourcePath("data/fmnist_cnn.h5");

struct Case {
  std::string args;
  std::string err;  // the whole stderr
};

}  // namespace

TEST_CASE("Option value errors name the option and what it expects", "[cli][usage]") {
  const std::string a = "analyze " + kSample + " -q dqsg ";
  const std::string hint = " (see 'gradquant analyze --help')\n";
  const std::vector<Case> cases = {
      {a + "--trials abc", "gradquant: error: --trials: 'abc' is not an integer" + hint},
      {a + "--trials=2.5", "gradquant: error: --trials: '2.5' is not an integer" + hint},
      {a + "--seed -1",
       "gradquant: error: --seed: '-1' is negative (expected an integer >= 0)" + hint},
      {a + "--seed 99999999999999999999999",
       "gradquant: error: --seed: '99999999999999999999999' is out of range" + hint},
      {a + "--bogus-option 3", "gradquant: error: unknown option --bogus-option" + hint},
      {a + "--trials", "gradquant: error: --trials: missing its value" + hint},
      {"optimize " + kSample + " --overload-tol much",
       "gradquant: error: --overload-tol: 'much' is not a number (see 'gradquant optimize "
       "--help')\n"},
      {"optimize " + kSample + " --curve-points=x",
       "gradquant: error: --curve-points: 'x' is not an integer (see 'gradquant optimize "
       "--help')\n"},
  };
  for (const auto& c : cases) {
    const auto run = test::RunGradquant(c.args);
    INFO("gradquant " << c.args);
    CHECK(run.exitCode == 1);
    CHECK(run.err == c.err);
    CHECK(run.out.empty());
  }
}

TEST_CASE("A comma-separated list of quantizers in one -q says to repeat -q", "[cli][usage]") {
  const auto run = test::RunGradquant("analyze " + kSample + " -q dqsg,qsgd");
  CHECK(run.exitCode == 1);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: -q dqsg,qsgd: one quantizer per -q") &&
                          Catch::Contains("repeat the option: -q dqsg -q qsgd"));
  // A comma after the name separates parameters, as before.
  CHECK(test::RunGradquant("analyze " + kSample +
                           " -q qsgd:s=7,bucket=512 --trials 1 --records 0 "
                           "--format csv")
            .exitCode == 0);
}

TEST_CASE("Record ranges are half-open, bit ranges inclusive, and both are checked",
          "[cli][usage]") {
  const std::string info = "info " + kSample + " --format csv --records ";
  const auto two = test::ParseCsv(test::RunGradquant(info + "2:4").out);
  CHECK_THAT(two.meta, Catch::Contains(" records=2 ") && Catch::Contains("records_in_dump=6") &&
                           Catch::Contains("steps=100,150"));
  const std::vector<Case> cases = {
      {info + "10:20",
       "gradquant: error: --records '10:20': range 10:20 (records 10 to 19, half-open) is out of "
       "range (the dump has 6 records (0 to 5)) (see 'gradquant info --help')\n"},
      {info + "18446744073709551615",
       "gradquant: error: --records '18446744073709551615': record 18446744073709551615 is out of "
       "range (the dump has 6 records (0 to 5)) (see 'gradquant info --help')\n"},
      {info + "3:3",
       "gradquant: error: --records '3:3': range 3:3 is empty (A:B is half-open, records A to "
       "B-1) (see 'gradquant info --help')\n"},
      {"optimize " + kSample + " --bits 3 --bits-range 2:4",
       "gradquant: error: --bits and --bits-range: give one of them, not both (see 'gradquant "
       "optimize --help')\n"},
      {"optimize " + kSample + " --bits-range 2:",
       "gradquant: error: --bits-range 2:: expected A:B, both ends included (1:8) (see "
       "'gradquant optimize --help')\n"},
  };
  for (const auto& c : cases) {
    const auto run = test::RunGradquant(c.args);
    INFO("gradquant " << c.args);
    CHECK(run.exitCode == 1);
    CHECK(run.err == c.err);
  }
  // --bits-range 2:3 is bits 2 and 3 (inclusive): two rows per (layer, record).
  const auto bits = test::RunGradquant("optimize " + kSample +
                                       " --part thresholds --bits-range 2:3 --layers fc2.bias "
                                       "--records 0 --trials 1 --format csv");
  REQUIRE(bits.exitCode == 0);
  const auto csv = test::ParseCsv(bits.out);
  REQUIRE(csv.rows.size() == 2);
  CHECK(csv.rows[0].at("bits") == "2");
  CHECK(csv.rows[1].at("bits") == "3");
}

TEST_CASE("Every help line shows its default once", "[cli][usage]") {
  for (const char* command : {"info", "compress", "decompress", "analyze", "optimize", "bench"}) {
    const auto run = test::RunGradquant(std::string(command) + " --help");
    INFO(command << "\n" << run.out);
    REQUIRE(run.exitCode == 0);
    CHECK_THAT(run.out, !Catch::Contains("[default:"));
    // One option's text runs from its "  -x, --name" or "      --name" line to the next one.
    std::istringstream lines(run.out);
    std::string option, line;
    std::vector<std::string> options;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, std::regex("^ +(-[a-z], )?--[a-z]"))) options.push_back("");
      if (!options.empty()) options.back() += line + " ";
    }
    CHECK(options.size() >= 3);
    for (const auto& text : options) {
      INFO(text);
      const auto first = text.find("default:");
      CHECK((first == std::string::npos || text.find("default:", first + 1) == std::string::npos));
    }
  }
}

TEST_CASE("The progress line is erased when the run is done", "[cli][usage]") {
  // script(1) gives the command a terminal, as a user's shell would.
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    WARN("script(1) not installed: progress line not checked");
    return;
  }
  test::TempDir dir;
  const std::string log = dir / "tty.log";
  const std::string command = "script -qec '" + std::string(GRADQUANT_BINARY) + " analyze " +
                              kSample + " -q dqsg --trials 1 --format csv >" + (dir / "out.csv") +
                              "' " + log + " >/dev/null 2>&1";
  REQUIRE(std::system(command.c_str()) == 0);
  std::ifstream in(log, std::ios::binary);
  const std::string tty((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(tty);
  // The last count is total/total; after it come a carriage return, blanks over the line and a
  // carriage return, and nothing is left on the line.
  std::smatch done;
  REQUIRE(std::regex_search(tty, done, std::regex("analyze (\\d+)/\\1(\\r +\\r)")));
  const std::string rest = done.suffix();
  CHECK(rest.find("analyze") == std::string::npos);
  // The blanks cover the whole line.
  CHECK(done[2].length() - 2 == done[0].length() - done[2].length());
}

}  // namespace gradquant
