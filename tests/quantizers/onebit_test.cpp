// 1-bit SGD's quantizer against docs/quantizers.md#onebit.
#include <catch2/catch.hpp>
#include <set>

#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::fvec RoundTrip(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx,
                     Message* message = nullptr) {
  const auto m = q.EncodeGroup({g}, ctx, nullptr);
  if (message) *message = m[0];
  return q.DecodeGroup(m, ctx).workers[0];
}

// Sum x^2 - S+^2/n+ - S-^2/n- over the groups given by @p group (docs/quantizers.md#onebit).
template <class GroupOf>
double GroupFormula(const arma::fvec& g, std::size_t groups, GroupOf group) {
  std::vector<double> sp(groups), sn(groups), np(groups), nn(groups);
  double total = 0;
  for (std::size_t i = 0; i < g.n_elem; ++i) {
    const double x = g[i];
    total += x * x;
    const std::size_t k = group(i);
    (x > 0 ? sp : sn)[k] += x;
    (x > 0 ? np : nn)[k] += 1;
  }
  for (std::size_t k = 0; k < groups; ++k) {
    if (np[k] > 0) total -= sp[k] * sp[k] / np[k];
    if (nn[k] > 0) total -= sn[k] * sn[k] / nn[k];
  }
  return total;
}

}  // namespace

TEST_CASE("1-bit SGD on the column (1, 2, -3, -1): means 1.5 and -2, error 2.5", "[onebit]") {
  const arma::fvec g = {1.0f, 2.0f, -3.0f, -1.0f};
  const arma::fvec expected = {1.5f, 1.5f, -2.0f, -2.0f};
  // As a 1-D tensor (one group) and as the one column of a 4x1 matrix (docs/quantizers.md#onebit).
  for (const auto& shape : {std::vector<std::uint64_t>{4}, std::vector<std::uint64_t>{4, 1}}) {
    const auto q = BuiltinRegistry().Make("onebit");
    const LayerInfo layer = test::Layer(shape);
    const auto ctx = test::Context(layer, 1);
    Message m;
    const arma::fvec r = RoundTrip(*q, g, ctx, &m);
    CHECK(m.bits == 4 + 64);
    CHECK(arma::approx_equal(r, expected, "absdiff", 0.0f));
    CHECK(arma::accu(r) == arma::accu(g));  // the group sum is preserved
    CHECK(q->ExpectedError(g, ctx).exact == 2.5);
  }
}

TEST_CASE("1-bit SGD groups are the columns (or rows) of the (rows, rest) view", "[onebit]") {
  const LayerInfo layer = test::Layer({8, 4, 3, 3});  // a conv weight: 8 x 36
  const arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 17);
  const auto ctx = test::Context(layer, 1);
  for (const bool byRow : {false, true}) {
    const auto q = BuiltinRegistry().Make(byRow ? "onebit:group=row" : "onebit");
    const std::size_t groups = byRow ? 8 : 36;
    auto groupOf = [byRow](std::size_t i) { return byRow ? i / 36 : i % 36; };
    Message m;
    const arma::fvec r = RoundTrip(*q, g, ctx, &m);
    CHECK(m.bits == layer.n + 64 * groups);
    std::vector<double> sumIn(groups), sumOut(groups);
    std::vector<std::set<float>> values(groups);
    for (std::size_t i = 0; i < layer.n; ++i) {
      sumIn[groupOf(i)] += g[i];
      sumOut[groupOf(i)] += r[i];
      values[groupOf(i)].insert(r[i]);
      CHECK((r[i] > 0) == (g[i] > 0));
    }
    for (std::size_t k = 0; k < groups; ++k) {
      CHECK(sumOut[k] == Approx(sumIn[k]).margin(1e-5));  // up to the means' float32 rounding
      CHECK(values[k].size() <= 2);
    }
    const double measured = arma::accu(
        arma::square(arma::conv_to<arma::vec>::from(r) - arma::conv_to<arma::vec>::from(g)));
    const double exact = q->ExpectedError(g, ctx).exact;
    CHECK(exact == Approx(measured).epsilon(1e-12));
    CHECK(exact == Approx(GroupFormula(g, groups, groupOf)).epsilon(1e-6));
  }
}

TEST_CASE("1-bit SGD sends 0.0 for an empty side of a group", "[onebit]") {
  const auto q = BuiltinRegistry().Make("onebit");
  const LayerInfo layer = test::Layer({2, 3});
  // Columns: (1, 2) all positive; (-1, 0) all non-positive; (0, 0) all zero.
  const arma::fvec g = {1.0f, -1.0f, 0.0f, 2.0f, 0.0f, 0.0f};
  const auto ctx = test::Context(layer, 1);
  Message m;
  const arma::fvec r = RoundTrip(*q, g, ctx, &m);
  CHECK(arma::approx_equal(r, arma::fvec{1.5f, -0.5f, 0.0f, 1.5f, -0.5f, 0.0f}, "absdiff", 0.0f));
  CHECK(r.is_finite());
  CHECK(q->ExpectedError(g, ctx).exact == Approx(0.25 + 0.25 + 0.25 + 0.25));
}

TEST_CASE("1-bit SGD's decoder rejects means that no encoder could send", "[onebit]") {
  const auto q = BuiltinRegistry().Make("onebit");
  const LayerInfo layer = test::Layer({2});
  const auto ctx = test::Context(layer, 1);
  auto message = [](float plus, float minus, std::uint64_t bits) {
    BitWriter w;
    w.PutFloat32(plus);
    w.PutFloat32(minus);
    w.Put(bits, 2);
    return w.Finish();
  };
  CHECK_NOTHROW(q->DecodeGroup({message(1.0f, -1.0f, 0b10)}, ctx));
  CHECK_THROWS_AS(q->DecodeGroup({message(-1.0f, -1.0f, 0b10)}, ctx), FormatError);  // mu+ < 0
  CHECK_THROWS_AS(q->DecodeGroup({message(1.0f, 1.0f, 0b10)}, ctx), FormatError);    // mu- > 0
  CHECK_THROWS_AS(q->DecodeGroup({message(1.0f, -1.0f, 0b11)}, ctx), FormatError);   // no mu- side
  CHECK_THROWS_AS(q->DecodeGroup({message(0.0f, -1.0f, 0b10)}, ctx), FormatError);   // mu+ = 0
  CHECK_THROWS_AS(q->DecodeGroup({message(std::nanf(""), -1.0f, 0b10)}, ctx), FormatError);
}

}  // namespace gradquant
