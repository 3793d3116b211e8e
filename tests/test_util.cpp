#include "test_util.hpp"

#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

namespace gradquant::test {

void CheckExactAndUnbiased(const Quantizer& q, const arma::fvec& g, const LayerInfo& layer,
                           int runs, std::uint64_t firstSeed) {
  const double exact = q.ExpectedError(g, Context(layer, firstSeed)).exact;
  REQUIRE(exact > 0.0);
  const MonteCarloError mc = MonteCarlo(q, g, layer, runs, firstSeed);
  CHECK(mc.mse == Approx(exact).epsilon(0.05));
  CHECK(mc.biasSq < 1.5 * exact / runs);
}

RunResult RunGradquant(const std::string& args) {
  TempDir dir;
  const std::string out = dir / "out", err = dir / "err";
  // GRADQUANT_TEST_WRAPPER runs the binary under a tool, e.g. valgrind (make valgrind).
  const char* wrapper = std::getenv("GRADQUANT_TEST_WRAPPER");
  const std::string cmd = (wrapper ? std::string(wrapper) + " " : std::string()) +
                          GRADQUANT_BINARY + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
  };
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
}

}  // namespace gradquant::test
