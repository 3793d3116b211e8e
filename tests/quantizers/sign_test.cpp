// signSGD with majority vote against docs/quantizers.md#sign.
#include "gradquant/quantizers/sign.hpp"

#include <catch2/catch.hpp>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/majority_vote.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

std::vector<arma::fvec> Workers(std::size_t n, std::uint32_t count, std::uint64_t seed) {
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < count; ++w) out.push_back(test::LaplaceSlab(n, 1.0, seed + w));
  return out;
}

}  // namespace

TEST_CASE("Sign sends one bit per coordinate with sign(0) = +1", "[sign]") {
  const auto q = BuiltinRegistry().Make("sign");
  CHECK(q->SignOutput());
  const LayerInfo layer = test::Layer({5});
  const arma::fvec g = {0.0f, -0.0f, -3.0f, 2.0f, -1e-30f};
  const auto ctx = test::Context(layer, 1);
  const auto m = q->EncodeGroup({g}, ctx, nullptr);
  CHECK(m[0].bits == 5);
  const arma::fvec expected = {1.0f, 1.0f, -1.0f, 1.0f, -1.0f};
  CHECK(arma::approx_equal(q->DecodeGroup(m, ctx).workers[0], expected, "absdiff", 0.0f));
  const LayerInfo big = test::Layer({1000});
  CHECK(q->EncodeGroup({test::LaplaceSlab(1000, 1, 2)}, test::Context(big, 1), nullptr)[0].bits ==
        1000);
}

TEST_CASE("With an odd number of workers every vote is +-1 and equals the majority", "[sign]") {
  for (const char* spec : {"sign", "sign:ties=one"}) {
    const auto q = BuiltinRegistry().Make(spec);
    const LayerInfo layer = test::Layer({1000});
    const auto slabs = Workers(1000, 5, 40);
    const auto ctx = test::Context(layer, 3, 0, 5);
    const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
    CHECK(arma::all(arma::abs(r.aggregate) == 1.0f));
    CHECK(r.stats.at("tie_frac") == 0.0);
    std::size_t wrong = 0;
    for (std::size_t i = 0; i < 1000; ++i) {
      int positive = 0;
      for (const auto& g : slabs) positive += g[i] >= 0;
      wrong += (positive >= 3 ? 1.0f : -1.0f) != r.aggregate[i];
    }
    CHECK(wrong == 0);
  }
}

TEST_CASE("With an even number of workers a tie gives 0, or +1 under ties=one", "[sign]") {
  const LayerInfo layer = test::Layer({6});
  const std::vector<arma::fvec> slabs = {{1, -1, 2, -2, 0, 3}, {-1, 1, 2, -2, -5, 1}};
  // Votes: 0, 0, +2, -2, 0 (sign(0) = +1 against -1), +2.
  const auto ctx = test::Context(layer, 3, 0, 2);
  const auto zero = BuiltinRegistry().Make("sign");
  const GroupResult rz = zero->DecodeGroup(zero->EncodeGroup(slabs, ctx, nullptr), ctx);
  CHECK(arma::approx_equal(rz.aggregate, arma::fvec{0, 0, 1, -1, 0, 1}, "absdiff", 0.0f));
  CHECK(rz.stats.at("tie_frac") == Approx(0.5));
  CHECK(rz.downlinkBits == 16);  // ternary vote, 5 trits per byte: 8 * ceil(6/5)
  const auto one = BuiltinRegistry().Make("sign:ties=one");
  const GroupResult ro = one->DecodeGroup(one->EncodeGroup(slabs, ctx, nullptr), ctx);
  CHECK(arma::approx_equal(ro.aggregate, arma::fvec{1, 1, 1, -1, 1, 1}, "absdiff", 0.0f));
  CHECK(ro.stats.at("tie_frac") == Approx(0.5));
  CHECK(ro.downlinkBits == 6);  // one bit per coordinate
}

TEST_CASE("The majority vote counts ties", "[sign]") {
  VoteCounts counts;
  const arma::fvec o = MajorityVote({{1, 1, -1}, {1, -1, -1}, {-1, 1, 1}, {1, -1, -1}}, &counts);
  CHECK(arma::approx_equal(o, arma::fvec{1, 0, -1}, "absdiff", 0.0f));
  CHECK(counts.ties == 1);
  CHECK(counts.voted == 3);
}

TEST_CASE("Sign's theory is the exact best-fit error ||g||^2 - ||g||_1^2/D", "[sign]") {
  const auto q = BuiltinRegistry().Make("sign");
  const LayerInfo layer = test::Layer({300});
  const arma::fvec g = test::GaussianSlab(300, 2.0, 6);
  const auto ctx = test::Context(layer, 1);
  const arma::fvec o = q->DecodeGroup(q->EncodeGroup({g}, ctx, nullptr), ctx).workers[0];
  const arma::vec gd = arma::conv_to<arma::vec>::from(g), od = arma::conv_to<arma::vec>::from(o);
  const double norm2 = arma::dot(gd, gd), norm1 = arma::accu(arma::abs(gd));
  const double bestFit = norm2 - arma::dot(od, gd) * arma::dot(od, gd) / arma::dot(od, od);
  const Theory theory = q->ExpectedError(g, ctx);
  CHECK(theory.Kind() == std::string("exact"));
  CHECK(theory.exact == Approx(norm2 - norm1 * norm1 / 300).epsilon(1e-12));
  CHECK(theory.exact == Approx(bestFit).epsilon(1e-9));
}

TEST_CASE("Sign's decoder rejects short and overlong messages", "[sign]") {
  const auto q = BuiltinRegistry().Make("sign");
  const LayerInfo layer = test::Layer({10});
  const auto ctx = test::Context(layer, 1);
  CHECK_THROWS_AS(q->DecodeGroup({Message{{0xFF}, 8}}, ctx), FormatError);
  CHECK_THROWS_AS(q->DecodeGroup({Message{{0xFF, 0xC0, 0x00}, 18}}, ctx), FormatError);
  CHECK_NOTHROW(q->DecodeGroup({Message{{0xFF, 0xC0}, 10}}, ctx));
}

}  // namespace gradquant
