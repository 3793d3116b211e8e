// The registry contract (quantizer_contract_test.cpp) runs every method with its defaults; this
// runs the same checks on the non-default variants of the scalar baselines, whose wire formats
// differ (shared scales, base-3 packing, buckets, row groups, the 1-bit tie rule).
#include <catch2/catch.hpp>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {

TEST_CASE("Non-default baseline variants keep the contract", "[contract][baselines]") {
  const std::vector<std::string> specs = {
      "terngrad:bucket=100,clip=2.5,packing=base3,scale=shared", "terngrad:bucket=7,packing=base3",
      "terngrad:clip=1,scale=shared", "sign:ties=one", "onebit:group=row"};
  const std::vector<std::vector<std::uint64_t>> shapes = {{1}, {7}, {1000}, {12, 30}, {8, 4, 3, 3}};
  for (const auto& spec : specs) {
    const auto q = BuiltinRegistry().Make(spec);
    REQUIRE(BuiltinRegistry().Make(q->Spec())->Spec() == q->Spec());
    for (const auto& shape : shapes) {
      DYNAMIC_SECTION(spec << " on " << shape.size() << "-D shape of " << shape[0]) {
        const LayerInfo layer = test::Layer(shape, "variant", 2);
        const std::uint32_t workers = 4;
        const SlabContext ctx = test::Context(layer, 42, 3, workers);
        const arma::fvec common = test::LaplaceSlab(layer.n, 1.0, 5);
        std::vector<arma::fvec> slabs;
        for (std::uint32_t w = 0; w < workers; ++w) {
          slabs.push_back(common + 0.5f * test::LaplaceSlab(layer.n, 1.0 + w, 60 + w));
        }
        const auto first = q->EncodeGroup(slabs, ctx, nullptr);
        const auto again = q->EncodeGroup(slabs, ctx, nullptr);
        REQUIRE(first.size() == workers);
        for (std::uint32_t w = 0; w < workers; ++w) {
          CHECK(first[w].bytes == again[w].bytes);
          CHECK(first[w].bits <= 8 * first[w].bytes.size());
          CHECK(8 * first[w].bytes.size() < first[w].bits + 8);
        }
        const GroupResult r = q->DecodeGroup(first, ctx);
        for (const auto& x : r.workers) CHECK(x.n_elem == layer.n);
        CHECK(r.aggregate.n_elem == layer.n);
        CHECK(r.aggregate.is_finite());
        for (std::uint32_t w = 0; w < workers; ++w) {
          auto cut = first;  // one byte short
          cut[w].bytes.pop_back();
          cut[w].bits = 8 * cut[w].bytes.size();
          CHECK_THROWS_AS(q->DecodeGroup(cut, ctx), FormatError);
          auto longer = first;  // one byte too many
          longer[w].bytes.push_back(0);
          longer[w].bits += 8;
          CHECK_THROWS_AS(q->DecodeGroup(longer, ctx), FormatError);
        }
        const std::vector<arma::fvec> zeros(2, arma::fvec(layer.n, arma::fill::zeros));
        const SlabContext zctx = test::Context(layer, 1, 0, 2);
        const GroupResult z = q->DecodeGroup(q->EncodeGroup(zeros, zctx, nullptr), zctx);
        for (const auto& x : z.workers) CHECK(x.is_finite());
      }
    }
  }
}

}  // namespace gradquant
