// Every subcommand that reads gradient values takes --nonfinite: a NaN/Inf stops the run with
// one line naming where it is, and the hint to zero it comes from the CLI (the library's message
// names no option); --nonfinite zero runs and warns once.
#include <catch2/catch.hpp>
#include <limits>

#include "cli/cli_util.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/io/dump.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

TEST_CASE("analyze, optimize and bench reject NaN with a hint and run with --nonfinite zero",
          "[cli][nonfinite]") {
  test::TempDir dir;
  const std::string dump = dir / "nan.h5";
  test::Forge(dump, test::ValidSpec(3, 2));
  test::PokeGradient(dump, "a", 1, 1, 4, std::numeric_limits<float>::quiet_NaN());
  const std::vector<std::string> commands = {
      "analyze " + dump + " -q qsgd:s=2 --trials 2 --format csv",
      "analyze " + dump + " --stats --format csv",
      "optimize " + dump + " --bits 2 --budget 2 --families qsgd --format csv",
      "bench " + dump + " -q dqsg:s=3 --repeat 1 --format csv",
  };
  for (const std::string& command : commands) {
    INFO(command);
    const auto reject = test::RunGradquant(command);
    CHECK(reject.exitCode == 2);
    CHECK(test::Lines(reject.err) == 1);
    CHECK_THAT(reject.err, Catch::Contains(dump + ": /gradients/a has NaN at record 1, worker 1, "
                                                  "index 4 (--nonfinite zero replaces"));
    const auto zero = test::RunGradquant(command + " --nonfinite zero");
    INFO(zero.err);
    CHECK(zero.exitCode == 0);
    CHECK(test::Lines(zero.err) == 1);
    CHECK_THAT(zero.err, Catch::StartsWith("gradquant: warning: zeroed 1 NaN/Inf gradient value"));
    CHECK_FALSE(zero.out.empty());
  }
}

TEST_CASE("The dump reader's NaN error names the value's place and no command-line option",
          "[io][nonfinite]") {
  test::TempDir dir;
  const std::string path = dir / "inf.h5";
  test::Forge(path, test::ValidSpec(2, 2));
  test::PokeGradient(path, "a", 0, 1, 2, std::numeric_limits<float>::infinity());
  const Dump dump = Dump::Open({path});
  try {
    dump.ReadSlab(0, 0, 1);
    FAIL("no error for an Inf value");
  } catch (const NonfiniteError& e) {
    const std::string what = e.what();
    CHECK(what == path + ": /gradients/a has Inf at record 0, worker 1, index 2");
    CHECK(what.find("--") == std::string::npos);
  }
}

}  // namespace
}  // namespace gradquant
