// The registry drives every list: each registered quantizer takes part in the frontier search,
// has a golden bitstream row, and (through the registry) in the thread and contract tests. A
// method added with one registry entry and no row fails here until
// GRADQUANT_UPDATE_GOLDEN=1 adds its row (golden_test.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <string>

#include "gradquant/optimize/frontier.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// The method names of the golden table's rows.
std::set<std::string> GoldenNames() {
  std::ifstream in(test::SourcePath("tests/golden/hashes.tsv"));
  std::set<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    names.insert(line.substr(0, line.find_first_of(":\t")));
  }
  return names;
}

TEST_CASE("Every registered quantizer is in the frontier and the golden table", "[registry]") {
  const std::vector<std::string> families = FrontierFamilies();
  const std::set<std::string> golden = GoldenNames();
  REQUIRE_FALSE(golden.empty());
  for (const std::string& name : BuiltinRegistry().Names()) {
    INFO(name);
    CHECK(std::count(families.begin(), families.end(), name) == 1);
    CHECK(golden.count(name) == 1);
  }
  // And nothing the registry does not know.
  for (const std::string& family : families) CHECK_NOTHROW(BuiltinRegistry().Get(family));
}

}  // namespace
}  // namespace gradquant
