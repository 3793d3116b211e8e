#include "test_util.hpp"

#include <sys/wait.h>

#include <fstream>
#include <sstream>

namespace gradquant::test {

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
