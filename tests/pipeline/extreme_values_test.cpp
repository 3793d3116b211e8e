// Finite gradient values near FLT_MAX: every quantizer either reconstructs them as finite values
// or RunRound refuses with a RangeError naming the quantizer and the layer. Before issue 19, dqsg,
// ndqsg and randk wrote Inf into the reconstruction and qsgd and powersgd rejected their own
// fresh message as corrupt (a FormatError, exit 3).
#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <set>

#include "gradquant/core/error.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// W slabs of Gaussian values scaled to about 3e37 with one value at FLT_MAX: each finite, their
// L2 norm far beyond float32.
std::vector<arma::fvec> Extreme(std::size_t n, std::size_t workers) {
  std::vector<arma::fvec> slabs;
  for (std::size_t w = 0; w < workers; ++w) {
    arma::fvec g = test::GaussianSlab(n, 1.0, 40 + w) * 3e37f;
    g[0] = FLT_MAX;
    slabs.push_back(g);
  }
  return slabs;
}

bool Finite(const GroupResult& r) {
  for (const auto& w : r.workers) {
    if (!w.is_finite()) return false;
  }
  return r.aggregate.is_finite();
}

}  // namespace

TEST_CASE("Values near FLT_MAX: a finite reconstruction or a RangeError, for every quantizer",
          "[pipeline][hostile]") {
  const LayerInfo layer = test::Layer({16, 32}, "w", 0);
  const ItemTruth truth(Extreme(layer.n, 3));
  std::set<std::string> refused, finite;
  for (const std::string& name : BuiltinRegistry().Names()) {
    const auto q = BuiltinRegistry().Make(name);
    auto state = q->NewLayerState(layer);
    const SlabContext ctx = ItemContext(layer, 7, 0, 3, state.get());
    INFO(q->Spec());
    try {
      const Round round = RunRound(*q, truth, ctx, {true, true, true, true});
      CHECK(Finite(round.decoded));
      finite.insert(name);
    } catch (const RangeError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith(q->Spec() + ": layer w step 0: ") &&
                               Catch::Contains("too large for its float32 fields"));
      refused.insert(name);
    }
  }
  // Both outcomes occur, so neither branch above is vacuous: float32 passes the values through,
  // DQSG's scale 2·max|g|/s overflows.
  CHECK(finite.count("fp32") == 1);
  CHECK(refused.count("dqsg") == 1);
  CHECK(refused.count("qsgd") == 1);  // its L2 norm field is Inf: its own message is refused
}

}  // namespace gradquant
