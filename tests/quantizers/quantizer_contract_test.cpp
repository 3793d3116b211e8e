// The contract every registered quantizer keeps (quantizer.hpp); registering a method tests it.
#include <catch2/catch.hpp>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

struct Case {
  std::vector<std::uint64_t> shape;
  const char* what;
};

// Shapes that exercise tiny slabs, odd sizes, matrices and 4-D conv weights.
const std::vector<Case> kCases = {{{1}, "one element"},
                                  {{7}, "odd vector"},
                                  {{1000}, "vector"},
                                  {{12, 30}, "matrix"},
                                  {{8, 4, 3, 3}, "conv weight"}};

std::vector<arma::fvec> Workers(std::size_t n, std::uint32_t count, std::uint64_t seed) {
  // Correlated workers: a common part plus a private part, as real gradients are.
  const arma::fvec common = test::LaplaceSlab(n, 1.0, seed);
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < count; ++w) {
    out.push_back(common + 0.3f * test::LaplaceSlab(n, 1.0, seed + 100 + w));
  }
  return out;
}

}  // namespace

TEST_CASE("Every registered quantizer keeps the contract", "[contract]") {
  const Registry& registry = BuiltinRegistry();
  for (const auto& name : registry.Names()) {
    const auto q = registry.Make(name);
    for (const auto& c : kCases) {
      DYNAMIC_SECTION(q->Spec() << " on " << c.what) {
        const LayerInfo layer = test::Layer(c.shape, "contract", 3);
        const std::uint32_t workers = 3;
        // Stateful methods (GradiVeQ) see two records first, so the checks below run on their
        // steady-state messages; each side keeps its own state, derived from decoded data.
        auto encoderState = q->NewLayerState(layer);
        auto decoderState = q->NewLayerState(layer);
        SlabContext ctx = test::Context(layer, 42, 7, workers);
        for (std::uint64_t warm = 0; warm < 2 && encoderState; ++warm) {
          ctx.step = warm;
          ctx.state = encoderState.get();
          const auto m = q->EncodeGroup(Workers(layer.n, workers, 50 + warm), ctx, nullptr);
          ctx.state = decoderState.get();
          const GroupResult r = q->DecodeGroup(m, ctx);
          q->Observe(*encoderState, r, ctx);
          q->Observe(*decoderState, r, ctx);
        }
        ctx.step = 7;
        ctx.state = decoderState.get();
        const auto slabs = Workers(layer.n, workers, 11);

        const auto first = q->EncodeGroup(slabs, ctx, nullptr);
        const auto again = q->EncodeGroup(slabs, ctx, nullptr);
        REQUIRE(first.size() == workers);
        for (std::uint32_t w = 0; w < workers; ++w) {
          INFO("worker " << w);
          CHECK(first[w].bytes == again[w].bytes);  // same seed, same bytes
          CHECK(first[w].bits == again[w].bits);
          CHECK(first[w].bits <= 8 * first[w].bytes.size());
          CHECK(8 * first[w].bytes.size() < first[w].bits + 8);
        }
        const GroupResult decoded = q->DecodeGroup(first, ctx);
        REQUIRE(decoded.workers.size() == workers);
        for (const auto& r : decoded.workers) CHECK(r.n_elem == layer.n);
        CHECK(decoded.aggregate.n_elem == layer.n);
        CHECK(decoded.aggregate.is_finite());

        // Decoding is a function of the bytes: decoding twice gives identical values.
        const GroupResult twice = q->DecodeGroup(first, ctx);
        for (std::uint32_t w = 0; w < workers; ++w) {
          CHECK(arma::approx_equal(decoded.workers[w], twice.workers[w], "absdiff", 0.0f));
        }

        // A message cut short by one byte (or emptied) must be rejected, never read past.
        for (std::uint32_t w = 0; w < workers; ++w) {
          if (first[w].bits == 0) continue;
          auto cut = first;
          cut[w].bytes.pop_back();
          cut[w].bits = 8 * cut[w].bytes.size();
          CHECK_THROWS_AS(q->DecodeGroup(cut, ctx), FormatError);
        }
      }
    }
  }
}

TEST_CASE("Every registered quantizer's canonical spec round-trips", "[contract][spec]") {
  const Registry& registry = BuiltinRegistry();
  for (const auto& name : registry.Names()) {
    const auto q = registry.Make(name);
    CHECK(registry.Make(q->Spec())->Spec() == q->Spec());
    CHECK_THROWS_AS(registry.Make(name + ":no_such_key=1"), SpecError);
    for (const auto& doc : registry.Docs(name)) {
      INFO(name << " " << doc.key);
      CHECK_THROWS_AS(registry.Make(name + ":" + doc.key + "=not_a_value"), SpecError);
      // The documented default, written out, gives the same canonical spec.
      CHECK(registry.Make(name + ":" + doc.key + "=" + doc.defaultValue)->Spec() == q->Spec());
    }
  }
}

TEST_CASE("Every registered quantizer gives finite output on an all-zero slab", "[contract]") {
  const Registry& registry = BuiltinRegistry();
  for (const auto& name : registry.Names()) {
    const auto q = registry.Make(name);
    INFO(q->Spec());
    const LayerInfo layer = test::Layer({6, 5});
    const std::vector<arma::fvec> slabs(2, arma::fvec(layer.n, arma::fill::zeros));
    SlabContext ctx = test::Context(layer, 1, 0, 2);
    auto state = q->NewLayerState(layer);
    ctx.state = state.get();
    const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
    for (const auto& w : r.workers) CHECK(w.is_finite());
    CHECK(r.aggregate.is_finite());
  }
}

}  // namespace gradquant
