// GradiVeQ against docs/quantizers.md#gradiveq.
#include "gradquant/quantizers/gradiveq.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// One record through both sides with a shared state (as `compress` runs it).
GroupResult Record(const Quantizer& q, const LayerInfo& layer, LayerState* state,
                   std::uint64_t step, const std::vector<arma::fvec>& slabs,
                   std::vector<Message>* sent = nullptr) {
  SlabContext ctx = test::Context(layer, 5, step, static_cast<std::uint32_t>(slabs.size()));
  ctx.state = state;
  const auto messages = q.EncodeGroup(slabs, ctx, nullptr);
  const GroupResult r = q.DecodeGroup(messages, ctx);
  if (state) q.Observe(*state, r, ctx);
  if (sent) *sent = messages;
  return r;
}

// Correlated workers: a common part plus a private part.
std::vector<arma::fvec> Workers(std::size_t n, std::uint32_t count, std::uint64_t seed) {
  const arma::fvec common = test::LaplaceSlab(n, 1.0, seed);
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < count; ++w) {
    out.push_back(common + 0.3f * test::LaplaceSlab(n, 1.0, seed + 100 + w));
  }
  return out;
}

arma::mat Coefficients(const Message& m, std::size_t d, std::size_t slices) {
  BitReader r(m, "coefficients");
  arma::mat c(d, slices);
  for (double& x : c) x = r.GetFloat32();
  r.ExpectEnd();
  return c;
}

const GradiveqState& StateOf(const LayerState& s) { return dynamic_cast<const GradiveqState&>(s); }

}  // namespace

TEST_CASE("GradiVeQ flattens conv weights in the (H, W, D, F) order of §4.2", "[gradiveq]") {
  const std::uint64_t F = 3, D = 2, H = 4, W = 5;
  const LayerInfo layer = test::Layer({F, D, H, W});
  arma::fvec g(layer.n);
  for (std::size_t i = 0; i < layer.n; ++i) g[i] = static_cast<float>(i);  // value = PyTorch index
  const SliceLayout layout = PlanSlices(layer, 0, false);
  REQUIRE(layout.k == F * D);
  REQUIRE(layout.slices == H * W);
  const arma::mat x = ToSlices(g.memptr(), layer, layout);
  for (std::uint64_t f = 0; f < F; ++f) {
    for (std::uint64_t d = 0; d < D; ++d) {
      for (std::uint64_t h = 0; h < H; ++h) {
        for (std::uint64_t w = 0; w < W; ++w) {
          const double torchIndex = static_cast<double>(((f * D + d) * H + h) * W + w);
          REQUIRE(x[((h * W + w) * D + d) * F + f] == torchIndex);
        }
      }
    }
  }
  arma::fvec back(layer.n);
  FromSlices(x, layer, layout, back.memptr());
  CHECK(arma::approx_equal(back, g, "absdiff", 0.0f));

  // A slice size that does not divide n: the last slice is zero-padded.
  const SliceLayout padded = PlanSlices(layer, 7, false);
  CHECK(padded.slices == 18);  // ceil(120 / 7)
  const arma::mat y = ToSlices(g.memptr(), layer, padded);
  for (std::size_t i = layer.n; i < y.n_elem; ++i) CHECK(y[i] == 0.0);  // 6 padding entries
  CHECK(y[0] == 0.0);
  CHECK(y[1] == static_cast<double>(D * H * W));  // filter 1 follows filter 0 at (0, 0, 0)
}

TEST_CASE("GradiVeQ slicing: which layers are compressed and the auto K", "[gradiveq]") {
  const auto conv = PlanSlices(test::Layer({8, 4, 3, 3}), 0, false);
  CHECK((conv.compress && conv.conv && conv.k == 32 && conv.slices == 9));
  CHECK_FALSE(PlanSlices(test::Layer({12, 30}), 0, false).compress);
  const auto fc = PlanSlices(test::Layer({12, 30}), 0, true);
  CHECK((fc.compress && !fc.conv && fc.k == 30 && fc.slices == 12));
  CHECK_FALSE(PlanSlices(test::Layer({100}), 0, true).compress);            // one slice
  CHECK_FALSE(PlanSlices(test::Layer({8, 4, 3, 3}), 1, false).compress);    // K = 1
  CHECK_FALSE(PlanSlices(test::Layer({8, 4, 3, 3}), 288, false).compress);  // one slice
}

TEST_CASE("GradiVeQ picks d by eq. (6) with the 1e-12 cut-off", "[gradiveq]") {
  const arma::vec eigen = {4, 3, 2, 1, 1e-14};
  double retained = 0;
  CHECK(ChooseDimension(eigen, 0.0, &retained) == 4);  // the round-off eigenvalue is cut
  CHECK(retained == 1.0);
  CHECK(ChooseDimension(eigen, 0.1, &retained) == 3);  // 9 >= 0.9 * 10
  CHECK(retained == Approx(0.9));
  CHECK(ChooseDimension(eigen, 0.11, nullptr) == 3);
  CHECK(ChooseDimension(eigen, 0.6, nullptr) == 1);
  CHECK(ChooseDimension(arma::vec{0, 0, 0}, 0.01, &retained) == 1);
  CHECK(retained == 1.0);
}

TEST_CASE("GradiVeQ commutes with summation (§10.20)", "[gradiveq]") {
  const LayerInfo layer = test::Layer({16, 8, 3, 3});  // K = 128, M = 9
  const auto q = BuiltinRegistry().Make("gradiveq:fit=2,lambda=0.05");
  auto state = q->NewLayerState(layer);
  REQUIRE(state);
  const std::uint32_t workers = 4;
  std::vector<Message> sent;
  Record(*q, layer, state.get(), 0, Workers(layer.n, workers, 1), &sent);
  for (const auto& m : sent) CHECK(m.bits == 32 * layer.n);
  Record(*q, layer, state.get(), 1, Workers(layer.n, workers, 2), &sent);
  for (const auto& m : sent) CHECK(m.bits == 32 * layer.n);
  const GradiveqState& s = StateOf(*state);
  REQUIRE(s.fitted);
  CHECK(s.basis.d <= 17);  // L = 2 records x 9 slices, rank <= L - 1

  const auto slabs = Workers(layer.n, workers, 3);
  const GroupResult r = Record(*q, layer, state.get(), 2, slabs, &sent);
  const SliceLayout& layout = s.layout;
  arma::mat sumOfCoeff(s.basis.d, layout.slices, arma::fill::zeros);
  arma::mat sumOfSlabs(layout.k, layout.slices, arma::fill::zeros);
  for (std::uint32_t w = 0; w < workers; ++w) {
    CHECK(sent[w].bits == 32 * s.basis.d * layout.slices);
    sumOfCoeff += Coefficients(sent[w], s.basis.d, layout.slices);
    sumOfSlabs += ToSlices(slabs[w].memptr(), layer, layout);
  }
  const arma::mat direct = s.basis.u.t() * (sumOfSlabs.each_col() - s.basis.mu);
  CHECK(arma::norm(sumOfCoeff - direct, "fro") <= 1e-6 * arma::norm(direct, "fro"));

  // The aggregate is decoded once from the summed coefficients: (U sum + mu) / N.
  arma::mat decoded = s.basis.u * sumOfCoeff;
  decoded.each_col() += s.basis.mu;
  arma::fvec expected(layer.n);
  FromSlices(decoded / workers, layer, layout, expected.memptr());
  CHECK(arma::approx_equal(r.aggregate, expected, "reldiff", 1e-5f));

  // Its error is the projection residual of the sum: ||(I - UU^T)(G - mu)||^2 / N^2.
  arma::mat centered = sumOfSlabs.each_col() - s.basis.mu;
  const arma::mat residual = centered - s.basis.u * (s.basis.u.t() * centered);
  arma::fvec mean = slabs[0];
  for (std::uint32_t w = 1; w < workers; ++w) mean += slabs[w];
  mean /= static_cast<float>(workers);
  const double aggError =
      arma::accu(arma::square(arma::conv_to<arma::vec>::from(r.aggregate - mean)));
  CHECK(aggError == Approx(arma::accu(arma::square(residual)) / (workers * workers)).epsilon(1e-4));

  SlabStats stats;
  SlabContext ctx = test::Context(layer, 5, 2, workers);
  ctx.state = state.get();
  q->Diagnose(slabs, r, ctx, &stats);
  CHECK(stats.at("commute_residual") < 1e-6);
  CHECK(stats.at("d") == static_cast<double>(s.basis.d));
  CHECK(r.stats.at("compressed") == 1.0);
}

TEST_CASE("GradiVeQ recovers an exact affine subspace and reconstructs it (§10.20)", "[gradiveq]") {
  // Fit slices mu0 + B c with integer B, c, mu0: exactly representable, rank 3 after centering.
  const LayerInfo layer = test::Layer({4, 4, 3, 3});  // K = 16, M = 9
  const SliceLayout layout = PlanSlices(layer, 0, false);
  const std::size_t rank = 3, fit = 2;
  const Rng rng({21, 0, 0, 0}, Purpose::kTest);
  std::uint64_t draw = 0;
  const auto integer = [&](int lo, int hi) {
    return static_cast<double>(lo + static_cast<int>(rng.Uniform(draw++) * (hi - lo + 1)));
  };
  arma::mat basis(layout.k, rank), mu0(layout.k, 1);
  basis.imbue([&] { return integer(-3, 3); });
  mu0.imbue([&] { return integer(-5, 5); });
  std::vector<arma::fvec> records;
  for (std::size_t f = 0; f < fit; ++f) {
    arma::mat coeff(rank, layout.slices);
    coeff.imbue([&] { return integer(-4, 4); });
    arma::mat slices = basis * coeff;
    slices.each_col() += mu0;
    arma::fvec g(layer.n);
    FromSlices(slices, layer, layout, g.memptr());
    records.push_back(g);
  }

  // The spectrum, from a fit with lambda = 0.
  const auto probe = BuiltinRegistry().Make("gradiveq:fit=2,lambda=0");
  auto probeState = probe->NewLayerState(layer);
  for (std::size_t f = 0; f < fit; ++f) Record(*probe, layer, probeState.get(), f, {records[f]});
  const PcaBasis& fitted = StateOf(*probeState).basis;
  REQUIRE(fitted.d == rank);
  CHECK(fitted.eigen[rank] <= 1e-20 * fitted.eigen[0]);  // exact: only round-off beyond rank
  const double smallest = fitted.eigen[rank - 1] / arma::accu(fitted.eigen);

  for (double lambda : {0.0, 0.5 * smallest, 0.99 * smallest, 1.01 * smallest}) {
    INFO("lambda = " << lambda << " (smallest share " << smallest << ")");
    const auto q = BuiltinRegistry().Make("gradiveq:fit=2,lambda=" + FormatReal(lambda));
    auto state = q->NewLayerState(layer);
    for (std::size_t f = 0; f < fit; ++f) Record(*q, layer, state.get(), f, {records[f]});
    const GradiveqState& s = StateOf(*state);
    if (lambda > smallest) {
      CHECK(s.basis.d == rank - 1);
      continue;
    }
    CHECK(s.basis.d == rank);
    // Sent again at a compressed step, the fit samples come back exactly (float32 coefficients).
    for (std::size_t f = 0; f < fit; ++f) {
      const GroupResult r = Record(*q, layer, state.get(), 10 + f, {records[f]});
      CHECK(arma::approx_equal(r.workers[0], records[f], "absdiff",
                               1e-5f * arma::abs(records[f]).max()));
      SlabContext ctx = test::Context(layer, 5, 10 + f, 1);
      ctx.state = state.get();
      CHECK(q->ExpectedError(records[f], ctx).exact <=
            1e-20 * arma::accu(arma::square(arma::conv_to<arma::vec>::from(records[f]))));
    }
  }
}

TEST_CASE("GradiVeQ d never exceeds L - 1 and reaches it on generic data", "[gradiveq]") {
  const LayerInfo layer = test::Layer({8, 4, 3, 3});  // K = 32, M = 9: L = 9 samples
  const auto q = BuiltinRegistry().Make("gradiveq:lambda=0");
  auto state = q->NewLayerState(layer);
  Record(*q, layer, state.get(), 0, Workers(layer.n, 3, 30));
  CHECK(StateOf(*state).basis.d == 8);
  CHECK(StateOf(*state).basis.retained == 1.0);
}

TEST_CASE("GradiVeQ bits: 32 n on fit records, 32 d ceil(n/K) afterwards", "[gradiveq]") {
  const LayerInfo layer = test::Layer({4, 3, 5, 5});             // n = 300
  const auto q = BuiltinRegistry().Make("gradiveq:k=64,fit=1");  // M = 5, the last padded
  auto state = q->NewLayerState(layer);
  std::vector<Message> sent;
  const GroupResult fitRecord = Record(*q, layer, state.get(), 0, Workers(layer.n, 2, 40), &sent);
  for (const auto& m : sent) CHECK(m.bits == 32 * 300);
  CHECK(fitRecord.downlinkBits == 32 * 300);
  CHECK(fitRecord.stats.at("compressed") == 0.0);
  const std::size_t d = StateOf(*state).basis.d;
  REQUIRE(d >= 1);
  const GroupResult later = Record(*q, layer, state.get(), 1, Workers(layer.n, 2, 41), &sent);
  for (const auto& m : sent) CHECK(m.bits == 32 * d * 5);
  CHECK(later.downlinkBits == 32 * d * 5);

  // A decoder whose state disagrees (message one coefficient too long) rejects the message.
  SlabContext ctx = test::Context(layer, 5, 2, 2);
  ctx.state = state.get();
  auto longer = q->EncodeGroup(Workers(layer.n, 2, 42), ctx, nullptr);
  longer[1].bytes.insert(longer[1].bytes.end(), 4, 0);
  longer[1].bits += 32;
  CHECK_THROWS_AS(q->DecodeGroup(longer, ctx), FormatError);

  // Without state, and on layers it does not compress, every record is float32.
  const auto noState =
      q->EncodeGroup(Workers(layer.n, 2, 43), test::Context(layer, 5, 3, 2), nullptr);
  CHECK(noState[0].bits == 32 * 300);
  const LayerInfo fc = test::Layer({12, 30});
  CHECK(q->NewLayerState(fc) == nullptr);
}

TEST_CASE("GradiVeQ per-worker theory is the exact local loss", "[gradiveq]") {
  const LayerInfo layer = test::Layer({8, 8, 3, 3});
  const auto q = BuiltinRegistry().Make("gradiveq:lambda=0.1");
  auto state = q->NewLayerState(layer);
  Record(*q, layer, state.get(), 0, Workers(layer.n, 3, 60));
  const auto slabs = Workers(layer.n, 3, 61);
  const GroupResult r = Record(*q, layer, state.get(), 1, slabs);
  for (std::uint32_t w = 0; w < 3; ++w) {
    SlabContext ctx = test::Context(layer, 5, 1, 3).ForWorker(w);
    ctx.state = state.get();
    const double measured =
        arma::accu(arma::square(arma::conv_to<arma::vec>::from(r.workers[w] - slabs[w])));
    CHECK(measured == Approx(q->ExpectedError(slabs[w], ctx).exact).epsilon(1e-4));
  }
  // On the fit record the theory (float32) is 0.
  SlabContext fitCtx = test::Context(layer, 5, 0, 3);
  fitCtx.state = state.get();
  CHECK(q->ExpectedError(slabs[0], fitCtx).exact == 0.0);
}

TEST_CASE("GradiVeQ through compress: d and retained energy are not diluted by fit records",
          "[gradiveq][cli]") {
  // fit=3 of the sample dump's 6 records: d is known from record 2 on, and the report's mean
  // must be over the records that reported it (compress_job's FinishStats).
  const Dump dump = Dump::Open({test::SourcePath("data/fmnist_cnn.h5")});
  const Selection all = Select(dump.Layers(), dump.Records(), "conv2\\.weight", "");
  const auto q = BuiltinRegistry().Make("gradiveq:fit=3");
  test::TempDir dir;
  CompressOptions options;
  options.outPath = dir / "out.h5";
  const auto totals = RunCompress(dump, *q, all, options);
  REQUIRE(totals.size() == 1);
  const SlabStats& stats = totals[0].stats;
  CHECK(stats.at("compressed") == Approx(0.5));  // records 3, 4, 5 of 6
  CHECK(stats.at("retained_energy") >= 0.99);    // eq. (6) with lambda = 0.01
  CHECK(stats.at("d") == std::round(stats.at("d")));
  CHECK(stats.at("commute_residual") < 1e-6);
  CHECK(totals[0].theoryKind == std::string("exact"));
  CHECK(totals[0].theorySq == Approx(totals[0].errorSq).epsilon(1e-4));
}

}  // namespace gradquant
