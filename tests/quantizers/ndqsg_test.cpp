// NDQSG against docs/quantizers.md#ndqsg (formula, overload law, bits).
#include "gradquant/quantizers/ndqsg.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>

#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/dqsg.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// Correlated workers: common + spread * private part.
std::vector<arma::fvec> Workers(std::size_t n, std::uint32_t count, float spread,
                                std::uint64_t seed) {
  const arma::fvec common = test::LaplaceSlab(n, 1.0, seed);
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < count; ++w) {
    out.push_back(common + spread * test::LaplaceSlab(n, 1.0, seed + 1 + w));
  }
  return out;
}

std::vector<std::uint32_t> Residues(const std::vector<std::int32_t>& k, std::int32_t rho) {
  std::vector<std::uint32_t> m(k.size());
  for (std::size_t i = 0; i < k.size(); ++i)
    m[i] = static_cast<std::uint32_t>(((k[i] % rho) + rho) % rho);
  return m;
}

}  // namespace

TEST_CASE("NDQSG nested decode with y = g equals DQSG bit for bit (§10.4)", "[ndqsg]") {
  const std::size_t n = 5000;
  const arma::fvec g = test::LaplaceSlab(n, 1.0, 7);
  const Rng dither({1, 2, 3, 4}, Purpose::kDither);
  for (std::int32_t s : {1, 3, 7}) {
    for (std::int32_t rho : {2, 3, 4, 5, 8}) {
      INFO("s " << s << " rho " << rho);
      const float step = StepForMax(arma::max(arma::abs(g)), s);
      std::vector<std::int32_t> k(n), khat(n);
      DitheredIndices(g.memptr(), n, step, s, dither, 0, k.data());
      const auto m = Residues(k, rho);
      // Perfect side information, and side information off by up to 0.999 (rho-1)step/2,
      // where success is guaranteed (docs/quantizers.md#ndqsg).
      arma::vec y = arma::conv_to<arma::vec>::from(g);
      for (int pass = 0; pass < 2; ++pass) {
        NestedIndices(m.data(), n, step, rho, y.memptr(), dither, 0, khat.data());
        CHECK(khat == k);
        std::vector<float> a(n), b(n);
        DitheredValues(k.data(), n, step, dither, 0, a.data());
        DitheredValues(khat.data(), n, step, dither, 0, b.data());
        CHECK(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0);
        const Rng offsets({9, 9, 9, 9}, Purpose::kTest);
        for (std::size_t i = 0; i < n; ++i) {
          y[i] = g[i] + (2 * offsets.Uniform(i) - 1) * 0.999 * (rho - 1) * step / 2;
        }
      }
    }
  }
}

TEST_CASE("NDQSG group with identical workers reproduces DQSG output exactly", "[ndqsg]") {
  const LayerInfo layer = test::Layer({40, 25});
  const std::uint32_t workers = 4;
  // Every worker holds the same g, so the decoded workers are within step/2 of g and the
  // side information is within step/2 < (rho-1) step/2: no overload can happen.
  const std::vector<arma::fvec> slabs(workers, test::LaplaceSlab(layer.n, 1.0, 3));
  const auto dqsg = BuiltinRegistry().Make("dqsg:s=3,bucket=300");
  for (const char* spec : {"ndqsg:s=3,bucket=300", "ndqsg:s=3,bucket=300,side=dqsg",
                           "ndqsg:s=3,bucket=300,packing=base,ratio=0.25"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const SlabContext ctx = test::Context(layer, 5, 2, workers);
    const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
    const GroupResult ref = dqsg->DecodeGroup(dqsg->EncodeGroup(slabs, ctx, nullptr), ctx);
    for (std::uint32_t w = 0; w < workers; ++w) CHECK(test::SameBits(r.workers[w], ref.workers[w]));
    CHECK(test::SameBits(r.aggregate, ref.aggregate));
    SlabStats stats;
    q->Diagnose(slabs, r, ctx, &stats);
    CHECK(stats["overload_frac"] == 0.0);
    CHECK(stats["overload_pred"] == 0.0);
  }
}

TEST_CASE("NDQSG DQSG-group messages are byte-identical to dqsg's", "[ndqsg]") {
  const LayerInfo layer = test::Layer({777});
  const auto dqsg = BuiltinRegistry().Make("dqsg:s=3,bucket=100");
  struct Row {
    double ratio;
    std::uint32_t workers, dqsgWorkers;
  };
  // The authors' rule: worker w sends DQSG iff w < ratio * W.
  for (const Row row : {Row{0.5, 1, 1}, Row{0.5, 2, 1}, Row{0.5, 3, 2}, Row{0.5, 4, 2},
                        Row{0.25, 4, 1}, Row{0.25, 5, 2}, Row{1.0, 4, 4}, Row{0.0, 3, 0}}) {
    INFO("ratio " << row.ratio << " W " << row.workers);
    const auto q = BuiltinRegistry().Make("ndqsg:s=3,bucket=100,ratio=" + FormatReal(row.ratio));
    const auto slabs = Workers(layer.n, row.workers, 0.3f, 11);
    const SlabContext ctx = test::Context(layer, 8, 1, row.workers);
    const auto m = q->EncodeGroup(slabs, ctx, nullptr);
    const auto ref = dqsg->EncodeGroup(slabs, ctx, nullptr);
    for (std::uint32_t w = 0; w < row.workers; ++w) {
      const bool isDqsg = w < row.dqsgWorkers;
      CHECK(dynamic_cast<const NdqsgQuantizer&>(*q).IsDqsgWorker(w, row.workers) == isDqsg);
      CHECK((m[w].bytes == ref[w].bytes) == isDqsg);
      CHECK(m[w].bits == (isDqsg ? 8 * 32 + 777 * 3 : 8 * 32 + 777 * 2));
    }
  }
}

TEST_CASE("NDQSG overload law for a constant offset (§10.5)", "[ndqsg]") {
  // step 1, s = rho = 3, g spread over [-3, 3]: P(fail) = clamp(delta - 1, 0, 1).
  const std::size_t n = 200000;
  const std::int32_t s = 3, rho = 3;
  const float step = 1.0f;
  const Rng source({4, 0, 0, 0}, Purpose::kTest), dither({4, 1, 2, 3}, Purpose::kDither);
  std::vector<float> g(n);
  for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<float>(6 * source.Uniform(i) - 3);
  std::vector<std::int32_t> k(n), khat(n);
  DitheredIndices(g.data(), n, step, s, dither, 0, k.data());
  const auto m = Residues(k, rho);
  std::vector<double> y(n);
  std::vector<float> out(n);
  for (double delta : {0.0, 0.5, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 1.9, 2.0, 2.5, 4.0}) {
    for (double sign : {1.0, -1.0}) {
      INFO("g - y = " << sign * delta);
      for (std::size_t i = 0; i < n; ++i) y[i] = g[i] - sign * delta;
      NestedIndices(m.data(), n, step, rho, y.data(), dither, 0, khat.data());
      DitheredValues(khat.data(), n, step, dither, 0, out.data());
      std::size_t fails = 0;
      bool onLattice = true;
      for (std::size_t i = 0; i < n; ++i) {
        if (khat[i] == k[i]) continue;
        ++fails;
        // The error is the DQSG error (|.| <= step/2) minus a nonzero multiple of rho*step.
        const double e = static_cast<double>(out[i]) - g[i];
        const double q = std::round(e / (rho * step));
        onLattice = onLattice && q != 0 && std::fabs(e - q * rho * step) <= 0.5 * step + 1e-5;
      }
      const double p = std::clamp(delta - 1.0, 0.0, 1.0);
      const double rate = static_cast<double>(fails) / n;
      // SE <= sqrt(0.25/n) = 0.0011, so 0.01 is about 9 SE.
      CHECK(std::fabs(rate - p) <= 0.01);
      if (delta <= 1.0) CHECK(fails == 0);
      if (delta >= 2.0) CHECK(fails == n);
      CHECK(onLattice);
    }
  }
}

TEST_CASE("NDQSG bits: ideal, fixed and base-3 packing (§10.6)", "[ndqsg]") {
  const LayerInfo layer = test::Layer({1000});
  const auto slabs = Workers(layer.n, 2, 0.1f, 21);
  const SlabContext ctx = test::Context(layer, 3, 0, 2);
  const auto fixed = BuiltinRegistry().Make("ndqsg:s=3,rho=3");
  const auto base = BuiltinRegistry().Make("ndqsg:s=3,rho=3,packing=base");
  SlabStats nested, plain;
  CHECK(fixed->Encode(slabs[1], ctx.ForWorker(1), &nested).bits == 2032);
  CHECK(fixed->Encode(slabs[0], ctx.ForWorker(0), &plain).bits == 3032);
  CHECK(nested["bits_ideal"] == Approx(1616.96).margin(0.01));
  CHECK(plain["bits_ideal"] == Approx(2839.4).margin(0.05));
  CHECK(nested["bits_entropy"] <= nested["bits_ideal"] + 1e-9);
  CHECK(nested["nested"] == 1.0);
  CHECK(base->Encode(slabs[1], ctx.ForWorker(1), nullptr).bits == 1632);
  const LayerInfo odd = test::Layer({1001});
  const SlabContext oddCtx = test::Context(odd, 3, 0, 2);
  CHECK(base->Encode(test::LaplaceSlab(odd.n, 1, 2), oddCtx.ForWorker(1), nullptr).bits ==
        8 * 201 + 32);
}

TEST_CASE("NDQSG base-rho chunks and their round trip", "[ndqsg]") {
  CHECK(BaseChunkFor(2).symbols == 8);
  CHECK(BaseChunkFor(2).bytes == 1);
  CHECK(BaseChunkFor(3).symbols == 5);
  CHECK(BaseChunkFor(3).bytes == 1);
  CHECK(BaseChunkFor(4).symbols == 4);
  CHECK(BaseChunkFor(5).symbols == 24);  // 5^24 <= 2^56: 2.33 bits per residue
  CHECK(BaseChunkFor(5).bytes == 7);
  CHECK(BaseChunkFor(256).symbols == 1);
  CHECK(BaseChunkFor(65536).bytes == 2);
  // Packing changes the bits, never the values.
  const LayerInfo layer = test::Layer({333});
  const auto slabs = Workers(layer.n, 3, 0.5f, 31);
  const SlabContext ctx = test::Context(layer, 4, 9, 3);
  for (int rho : {2, 3, 5, 7, 16, 257}) {
    INFO("rho " << rho);
    const std::string spec = "ndqsg:s=7,bucket=50,ratio=0.3,rho=" + std::to_string(rho);
    const auto f = BuiltinRegistry().Make(spec);
    const auto b = BuiltinRegistry().Make(spec + ",packing=base");
    const auto rf = f->DecodeGroup(f->EncodeGroup(slabs, ctx, nullptr), ctx);
    const auto rb = b->DecodeGroup(b->EncodeGroup(slabs, ctx, nullptr), ctx);
    for (std::uint32_t w = 0; w < 3; ++w) CHECK(test::SameBits(rf.workers[w], rb.workers[w]));
  }
}

TEST_CASE("NDQSG server uses the declared side-information rule", "[ndqsg]") {
  const LayerInfo layer = test::Layer({4000});
  const std::uint32_t workers = 4;
  const auto slabs = Workers(layer.n, workers, 1.0f, 41);  // weak correlation: overloads
  const SlabContext ctx = test::Context(layer, 6, 3, workers);
  GroupResult results[2];
  int i = 0;
  for (const char* side : {"running", "dqsg"}) {
    INFO(side);
    const auto q = BuiltinRegistry().Make(std::string("ndqsg:side=") + side);
    const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
    // Worker 3 rebuilt by hand from its true indices and the rule's side information.
    arma::vec y = (arma::conv_to<arma::vec>::from(r.workers[0]) +
                   arma::conv_to<arma::vec>::from(r.workers[1]));
    if (std::string(side) == "running")
      y = (y + arma::conv_to<arma::vec>::from(r.workers[2])) / 3;
    else
      y /= 2;
    const Rng dither(ctx.ForWorker(3).Key(), Purpose::kDither);
    const float step = StepForMax(arma::max(arma::abs(slabs[3])), 3);
    std::vector<std::int32_t> k(layer.n), khat(layer.n);
    DitheredIndices(slabs[3].memptr(), layer.n, step, 3, dither, 0, k.data());
    const auto m = Residues(k, 3);
    NestedIndices(m.data(), layer.n, step, 3, y.memptr(), dither, 0, khat.data());
    arma::fvec expected(layer.n);
    DitheredValues(khat.data(), layer.n, step, dither, 0, expected.memptr());
    CHECK(test::SameBits(r.workers[3], expected));
    CHECK(khat != k);  // the setup really overloads, so the rule matters
    results[i++] = r;
  }
  CHECK(!test::SameBits(results[0].workers[3], results[1].workers[3]));
  CHECK(test::SameBits(results[0].workers[2], results[1].workers[2]));  // same y for worker 2
}

TEST_CASE("NDQSG measured overload matches the prediction from the side information", "[ndqsg]") {
  const LayerInfo layer = test::Layer({20000});
  const std::uint32_t workers = 8;
  for (float spread : {0.5f, 1.0f}) {
    const auto slabs = Workers(layer.n, workers, spread, 51);
    const SlabContext ctx = test::Context(layer, 7, 0, workers);
    const auto q = BuiltinRegistry().Make("ndqsg:bucket=500");
    const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
    SlabStats stats;
    q->Diagnose(slabs, r, ctx, &stats);
    const double coords = 4.0 * layer.n, pred = stats["overload_pred"];
    INFO("spread " << spread << " measured " << stats["overload_frac"] << " predicted " << pred);
    CHECK(pred > 0.001);
    // Given y, each coordinate fails independently with its predicted probability p_i, so
    // SE = sqrt(sum p(1-p))/coords <= sqrt(pred/coords).
    CHECK(std::fabs(stats["overload_frac"] - pred) <= 5 * std::sqrt(pred / coords));
    CHECK(stats["overload_err_share"] > 0.0);
    CHECK(stats["overload_err_share"] <= 1.0);
    CHECK(stats["offset_mean"] > 0.0);
  }
}

TEST_CASE("NDQSG rejects residues outside the alphabet", "[ndqsg]") {
  const LayerInfo layer = test::Layer({10});
  const SlabContext ctx = test::Context(layer, 1, 0, 2);
  const auto q = BuiltinRegistry().Make("ndqsg");
  auto messages = q->EncodeGroup(Workers(layer.n, 2, 0.1f, 3), ctx, nullptr);
  BitWriter w;  // step 1, then the 2-bit residue 3, which rho = 3 cannot produce
  w.PutFloat32(1.0f);
  for (int i = 0; i < 10; ++i) w.Put(3, 2);
  messages[1] = w.Finish();
  CHECK_THROWS_AS(q->DecodeGroup(messages, ctx), FormatError);
  const auto b = BuiltinRegistry().Make("ndqsg:packing=base");
  BitWriter wb;  // 3^5 = 243 <= chunk value 255: not a base-3 number of 5 digits
  wb.PutFloat32(1.0f);
  wb.Put(255, 8);
  wb.Put(0, 8);
  messages = b->EncodeGroup(Workers(layer.n, 2, 0.1f, 3), ctx, nullptr);
  messages[1] = wb.Finish();
  CHECK_THROWS_AS(b->DecodeGroup(messages, ctx), FormatError);
}

TEST_CASE("NDQSG sends exact zeros for an all-zero nested bucket", "[ndqsg]") {
  const LayerInfo layer = test::Layer({20});
  auto slabs = Workers(layer.n, 2, 0.1f, 5);
  slabs[1].tail(10).zeros();
  const SlabContext ctx = test::Context(layer, 2, 0, 2);
  const auto q = BuiltinRegistry().Make("ndqsg:bucket=10");
  const GroupResult r = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
  CHECK(arma::all(r.workers[1].tail(10) == 0.0f));
  const double dqsg = BuiltinRegistry().Make("dqsg:bucket=10")->ExpectedError(slabs[1], ctx).exact;
  CHECK(q->ExpectedError(slabs[1], ctx).exact == dqsg);  // worker 0 sends DQSG
  // A nested worker's error is the DQSG value only without overload: a lower bound.
  const Theory nested = q->ExpectedError(slabs[1], ctx.ForWorker(1));
  CHECK(std::isnan(nested.exact));
  CHECK(nested.lowerBound == dqsg);
  CHECK(std::string(nested.Kind()) == "lower_bound");
}

TEST_CASE("NDQSG nested decode stays finite when the side information is far off", "[ndqsg]") {
  const std::size_t n = 64;
  const arma::fvec g = 1e-6f * test::LaplaceSlab(n, 1.0, 8);
  const float step = StepForMax(arma::max(arma::abs(g)), 3);
  const Rng dither({3, 3, 3, 3}, Purpose::kDither);
  std::vector<std::int32_t> k(n), khat(n);
  DitheredIndices(g.memptr(), n, step, 3, dither, 0, k.data());
  const auto m = Residues(k, 3);
  // |y| / step is about 1e24: the coarse index is clamped, the output stays finite.
  const std::vector<double> y(n, 1e18);
  NestedIndices(m.data(), n, step, 3, y.data(), dither, 0, khat.data());
  std::vector<float> out(n);
  DitheredValues(khat.data(), n, step, dither, 0, out.data());
  for (std::size_t i = 0; i < n; ++i) {
    CHECK(std::isfinite(out[i]));
    CHECK(khat[i] != k[i]);  // a certain overload
  }
}

}  // namespace gradquant
