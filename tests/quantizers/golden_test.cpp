// Golden bitstreams: a change of any wire format shows up as a diff of tests/golden/hashes.tsv.
// GRADQUANT_UPDATE_GOLDEN=1 rewrites the bits and hash columns (commit that only on purpose).
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {

TEST_CASE("Bitstreams match their golden hashes", "[golden][bitstream]") {
  const std::string path = test::SourcePath("tests/golden/hashes.tsv");
  std::ifstream in(path);
  REQUIRE(in.good());
  const bool update = std::getenv("GRADQUANT_UPDATE_GOLDEN") != nullptr;
  std::ostringstream rewritten;
  std::string line;
  int rows = 0;
  std::set<std::string> methods;  // the method names with a row
  // One golden row: the first worker's message of a 2-worker group of Laplace slabs.
  auto row = [](const Quantizer& q, std::uint64_t seed, const std::string& shapeText) {
    std::vector<std::uint64_t> shape;  // "12x30" -> {12, 30}
    for (std::size_t start = 0; start <= shapeText.size();) {
      const auto x = shapeText.find('x', start);
      shape.push_back(std::stoull(shapeText.substr(start, x - start)));
      if (x == std::string::npos) break;
      start = x + 1;
    }
    const LayerInfo layer = test::Layer(shape);
    const std::vector<arma::fvec> slabs = {test::LaplaceSlab(layer.n, 1.0, seed),
                                           test::LaplaceSlab(layer.n, 1.0, seed + 1)};
    return q.EncodeGroup(slabs, test::Context(layer, seed, 0, 2), nullptr)[0];
  };
  auto hashOf = [](const Message& m) {
    char text[17];
    std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(MessageHash(m)));
    return std::string(text);
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      rewritten << line << '\n';
      continue;
    }
    std::istringstream fields(line);
    std::string spec, shapeText, hash;
    std::uint64_t seed = 0, bits = 0;
    fields >> spec >> seed >> shapeText >> bits >> hash;
    const auto q = BuiltinRegistry().Make(spec);
    methods.insert(spec.substr(0, spec.find(':')));
    const Message m = row(*q, seed, shapeText);
    const std::string actual = hashOf(m);
    INFO(spec << " seed " << seed << " shape " << shapeText);
    if (!update) {
      CHECK(m.bits == bits);
      CHECK(actual == hash);
    }
    rewritten << spec << '\t' << seed << '\t' << shapeText << '\t' << m.bits << '\t' << actual
              << '\n';
    ++rows;
  }
  CHECK(rows > 0);
  // A newly registered method gets its default spec's row on update (and fails without one in
  // registry_coverage_test.cpp).
  for (const std::string& name : BuiltinRegistry().Names()) {
    if (!update || methods.count(name)) continue;
    const auto q = BuiltinRegistry().Make(name);
    const Message m = row(*q, 1, "1000");
    rewritten << q->Spec() << "\t1\t1000\t" << m.bits << '\t' << hashOf(m) << '\n';
  }
  if (update) std::ofstream(path) << rewritten.str();
}

}  // namespace gradquant
