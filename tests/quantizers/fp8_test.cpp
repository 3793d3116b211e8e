// fp8 (quantizers/fp8.hpp, casts of quantizers/float_format.hpp): known codes of both OCP
// formats, every one of the 256 codes round trip (reference, kernels and the quantizer's
// message), ties to even, agreement with a brute-force nearest search on the exact quotient,
// the scale, bits, underflow stats, corrupt messages, and stochastic rounding's unbiasedness and
// exact variance (Monte Carlo).
#include "gradquant/quantizers/fp8.hpp"

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <vector>

#include "gradquant/core/error.hpp"
#include "gradquant/core/float_bits.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/random/rng.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

const FloatFormat kFormats[] = {kFloat8E4m3, kFloat8E5m2};

std::uint32_t Nearest(FloatFormat f, double t) { return FormatCast(f, t, -1.0).code; }

// The finite codes of f, and their values.
std::vector<std::uint32_t> FiniteCodes(FloatFormat f, std::vector<float>* values) {
  std::vector<std::uint32_t> codes;
  for (std::uint32_t code = 0; code < 256; ++code) {
    float v = 0.0f;
    if (!FormatValue(f, code, &v)) continue;
    codes.push_back(code);
    if (values) values->push_back(v);
  }
  return codes;
}

// The nearest code to g/σ by trying every code: |σ·v − g| is exact in double for the codes
// next to g/σ (a float32 times at most 4 significant bits, against a float32 within a factor 2),
// ties to the even code. Independent of the grid arithmetic of float_format.cpp.
std::uint32_t BruteNearest(FloatFormat f, float g, float scale) {
  std::uint32_t best = 0;
  double bestDistance = INFINITY;
  for (std::uint32_t code = 0; code < 256; ++code) {
    float v = 0.0f;
    if (!FormatValue(f, code, &v) || std::signbit(v) != std::signbit(g)) continue;
    const double d = std::fabs(static_cast<double>(scale) * v - static_cast<double>(g));
    if (d < bestDistance || (d == bestDistance && (code & 1u) == 0)) {
      best = code;
      bestDistance = d;
    }
  }
  return best;
}

arma::fvec Run(const Quantizer& q, const arma::fvec& g, const SlabContext& ctx,
               SlabStats* stats = nullptr) {
  return q.DecodeGroup({q.Encode(g, ctx, stats)}, ctx).workers.at(0);
}

}  // namespace

TEST_CASE("fp8 codes of known values in both OCP formats", "[quantizers][fp8]") {
  CHECK(MaxFinite(kFloat8E4m3) == 448.0);
  CHECK(MaxFinite(kFloat8E5m2) == 57344.0);
  CHECK(Nearest(kFloat8E4m3, 1.0) == 0x38);
  CHECK(Nearest(kFloat8E4m3, -1.5) == 0xBC);
  CHECK(Nearest(kFloat8E4m3, 448.0) == 0x7E);                 // F = S.1111.110
  CHECK(Nearest(kFloat8E4m3, 256.0) == 0x78);                 // the all-ones exponent is normal
  CHECK(Nearest(kFloat8E4m3, std::ldexp(1.0, -6)) == 0x08);   // smallest normal
  CHECK(Nearest(kFloat8E4m3, std::ldexp(1.0, -9)) == 0x01);   // smallest subnormal
  CHECK(Nearest(kFloat8E4m3, std::ldexp(1.0, -10)) == 0x00);  // tie with 0: even
  CHECK(Nearest(kFloat8E4m3, 1.0625) == 0x38);                // tie between 1 and 1.125: even
  CHECK(Nearest(kFloat8E4m3, 1.1875) == 0x3A);                // tie between 1.125 and 1.25
  CHECK(Nearest(kFloat8E5m2, 1.0) == 0x3C);
  CHECK(Nearest(kFloat8E5m2, 57344.0) == 0x7B);               // F = S.11110.11
  CHECK(Nearest(kFloat8E5m2, std::ldexp(1.0, -14)) == 0x04);  // smallest normal
  CHECK(Nearest(kFloat8E5m2, std::ldexp(1.0, -16)) == 0x01);  // smallest subnormal
  CHECK(Nearest(kFloat8E5m2, -1.125) == 0xBC);                // tie between 1 and 1.25: even
  const FormatCode over = FormatCast(kFloat8E4m3, 480.0, -1.0);
  CHECK(over.code == 0x7E);  // saturates to F, never NaN
  CHECK(over.overflow);
  CHECK(FormatCast(kFloat8E5m2, -1e9, 0.5).code == 0xFB);
  CHECK(FormatCast(kFloat8E5m2, 1e-6, -1.0).underflow);
  float v = 0.0f;
  CHECK_FALSE(FormatValue(kFloat8E4m3, 0x7F, &v));  // NaN
  CHECK(FormatValue(kFloat8E4m3, 0x7E, &v));
  CHECK(v == 448.0f);
  CHECK_FALSE(FormatValue(kFloat8E5m2, 0x7C, &v));  // inf
}

TEST_CASE("Every one of the 256 fp8 codes decodes and casts back to itself", "[quantizers][fp8]") {
  for (const FloatFormat f : kFormats) {
    INFO("E = " << f.exponentBits);
    std::vector<float> values;
    const std::vector<std::uint32_t> codes = FiniteCodes(f, &values);
    // E4M3: only S.1111.111 is NaN; E5M2: S.11111.xx are inf and NaN.
    CHECK(codes.size() == (f.finiteOnly ? 254u : 248u));
    std::vector<double> asDouble(values.begin(), values.end());
    std::vector<std::uint32_t> fromFloat(codes.size()), fromDouble(codes.size());
    NearestCodes(f, values.data(), values.size(), fromFloat.data(), nullptr);
    NearestCodes(f, asDouble.data(), asDouble.size(), fromDouble.data(), nullptr);
    std::vector<float> fast(codes.size());
    REQUIRE(FormatValues(f, codes.data(), codes.size(), fast.data()));
    for (std::size_t i = 0; i < codes.size(); ++i) {
      INFO("code " << codes[i]);
      REQUIRE(std::isfinite(values[i]));
      CHECK(Nearest(f, values[i]) == codes[i]);
      CHECK(FormatCast(f, values[i], 0.999).code == codes[i]);  // on the grid: no rounding
      CHECK(fromFloat[i] == codes[i]);
      CHECK(fromDouble[i] == codes[i]);
      CHECK(FloatBits(fast[i]) == FloatBits(values[i]));
      // Positive codes are in increasing order of value (an independent check of the layout).
      if (i > 0 && codes[i] < 0x80 && codes[i - 1] < 0x80) CHECK(values[i] > values[i - 1]);
    }
    for (std::uint32_t bad = 0; bad < 256; ++bad) {
      float unused = 0.0f;
      if (FormatValue(f, bad, &unused)) continue;
      float out = 0.0f;
      CHECK_FALSE(FormatValues(f, &bad, 1, &out));
    }
  }
}

TEST_CASE("fp8 ties round to even; the kernels agree with the reference and a brute-force search",
          "[quantizers][fp8]") {
  for (const FloatFormat f : kFormats) {
    INFO("E = " << f.exponentBits);
    std::vector<float> values;
    const std::vector<std::uint32_t> codes = FiniteCodes(f, &values);
    std::vector<double> t = {0.0, -0.0, 1e-300, -1e-30, 1e30, NAN, INFINITY, -INFINITY};
    for (std::size_t i = 0; i + 1 < codes.size(); ++i) {
      if (codes[i + 1] != codes[i] + 1 || codes[i] == 0x7F) continue;  // neighbours, one sign
      const double mid = (static_cast<double>(values[i]) + values[i + 1]) / 2;  // exact
      const std::uint32_t even = codes[i] % 2 == 0 ? codes[i] : codes[i + 1];
      CHECK(Nearest(f, mid) == even);
      // Codes grow with the magnitude on either sign: codes[i] is the neighbour nearer zero.
      CHECK(Nearest(f, std::nextafter(mid, 0.0)) == codes[i]);
      CHECK(Nearest(f, std::nextafter(mid, mid > 0 ? INFINITY : -INFINITY)) == codes[i + 1]);
      for (double x : {mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY),
                       static_cast<double>(values[i])}) {
        t.push_back(x);
      }
    }
    const arma::fvec r = test::WideRangeSlab(20000, 8.0, 21);
    t.insert(t.end(), r.begin(), r.end());
    std::vector<std::uint32_t> got(t.size());
    NearestCodes(f, t.data(), t.size(), got.data(), nullptr);
    for (std::size_t i = 0; i < t.size(); ++i) {
      INFO("t = " << t[i]);
      REQUIRE(got[i] == FormatCast(f, std::isnan(t[i]) ? 0.0 : t[i], -1.0).code);
    }
    // Stochastic: the same inputs under several words against the reference's U < frac.
    const Rng rng({5, 6, 7, 8}, Purpose::kTest);
    for (const std::uint32_t fixed : {0u, 1u, 0x80000000u, 0xFFFFFFFFu, 7u}) {
      std::vector<std::uint32_t> words(t.size(), fixed);
      if (fixed == 7u) rng.Words(0, words.size(), words.data());
      StochasticCodes(f, t.data(), words.data(), t.size(), got.data(), nullptr);
      for (std::size_t i = 0; i < t.size(); ++i) {
        if (std::isnan(t[i])) continue;
        INFO("t = " << t[i] << ", word " << words[i]);
        REQUIRE(got[i] == FormatCast(f, t[i], words[i] * 0x1p-32).code);
      }
    }
    // The nearest code of the double quotient g/σ is the nearest code of the exact quotient.
    const arma::fvec g = test::LaplaceSlab(50000, 1.0, 23);
    const arma::fvec m = arma::abs(test::LaplaceSlab(50000, 3.0, 24)) + arma::abs(g);
    for (std::size_t i = 0; i < g.n_elem; ++i) {
      const float scale = static_cast<float>(m[i] / MaxFinite(f));
      const double q = static_cast<double>(g[i]) / scale;
      std::uint32_t code = 0;
      NearestCodes(f, &q, 1, &code, nullptr);
      INFO("g = " << g[i] << ", scale = " << scale);
      REQUIRE(code == BruteNearest(f, g[i], scale));
    }
  }
}

TEST_CASE("StochasticCastChoice gives the two outcomes and the exact share of words going up",
          "[quantizers][fp8]") {
  for (const FloatFormat f : kFormats) {
    const arma::fvec t = test::LaplaceSlab(2000, 4.0, 25);
    for (float x : t) {
      const StochasticChoice c = StochasticCastChoice(f, x);
      REQUIRE(c.up >= 0.0);
      REQUIRE(c.up <= 1.0);
      const double d = x;
      std::uint32_t code = 0;
      if (c.up > 0.0) {  // the last word that goes up
        const auto w = static_cast<std::uint32_t>(c.up * 0x1p32 - 1);
        StochasticCodes(f, &d, &w, 1, &code, nullptr);
        CHECK(code == c.hi);
      }
      if (c.up < 1.0) {  // the first word that does not
        const auto w = static_cast<std::uint32_t>(c.up * 0x1p32);
        StochasticCodes(f, &d, &w, 1, &code, nullptr);
        CHECK(code == c.lo);
      }
    }
  }
}

TEST_CASE("fp8 sends every code of a slab exactly, 8 bits each plus 32 per bucket",
          "[quantizers][fp8]") {
  for (const char* spec : {"fp8", "fp8:format=e5m2"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const FloatFormat f = std::string(spec) == "fp8" ? kFloat8E4m3 : kFloat8E5m2;
    std::vector<float> values;
    FiniteCodes(f, &values);
    const arma::fvec g(values);  // max |g| = F: the scale is exactly 1
    const LayerInfo layer = test::Layer({g.n_elem});
    const SlabContext ctx = test::Context(layer, 3);
    const Message m = q->Encode(g, ctx, nullptr);
    CHECK(m.bits == 8 * g.n_elem + 32);
    CHECK(test::SameBits(Run(*q, g, ctx), g));
    CHECK(q->ExpectedError(g, ctx).exact == 0.0);
  }
  const auto q = BuiltinRegistry().Make("fp8:bucket=100");
  const LayerInfo layer = test::Layer({777});
  const arma::fvec g = test::LaplaceSlab(777, 1.0, 26);
  CHECK(q->Encode(g, test::Context(layer, 1), nullptr).bits == 8 * 777 + 32 * 8);
}

TEST_CASE("fp8's scale maps the bucket's max |g| to F: the smallest float32 s with s*F >= max",
          "[quantizers][fp8]") {
  const Fp8Quantizer* q = nullptr;
  const auto made = BuiltinRegistry().Make("fp8:bucket=64");
  q = dynamic_cast<const Fp8Quantizer*>(made.get());
  REQUIRE(q);
  arma::fvec g = test::LaplaceSlab(64 * 50, 1.0, 27) %
                 arma::exp2(arma::conv_to<arma::fvec>::from(arma::regspace(0, 64 * 50 - 1) / 64));
  g.subvec(64, 127).zeros();        // an all-zero bucket
  g[200] = std::ldexp(1.0f, -149);  // a bucket of one denormal
  g.subvec(192, 199).zeros();
  g.subvec(201, 255).zeros();
  const std::vector<float> scales = q->Scales(g);
  REQUIRE(scales.size() == 50);
  CHECK(scales[1] == 0.0f);
  CHECK(scales[3] == std::ldexp(1.0f, -149));  // m/448 rounds to 0: moved up to the denormal
  for (std::size_t k = 0; k < scales.size(); ++k) {
    const double m = arma::max(arma::abs(g.subvec(64 * k, 64 * k + 63)));
    INFO("bucket " << k);
    CHECK(static_cast<double>(scales[k]) * 448.0 >= m);
    if (scales[k] > 0) CHECK(static_cast<double>(std::nextafter(scales[k], 0.0f)) * 448.0 < m);
  }
  const LayerInfo layer = test::Layer({g.n_elem});
  const arma::fvec out = Run(*made, g, test::Context(layer, 1));
  CHECK(arma::all(out.subvec(64, 127) == 0.0f));
  CHECK(out[200] == g[200]);
  // Deterministic: the exact theory is the measured error.
  const arma::vec d = arma::conv_to<arma::vec>::from(out) - arma::conv_to<arma::vec>::from(g);
  const double measured = arma::accu(arma::square(d));
  CHECK(made->ExpectedError(g, test::Context(layer, 1)).exact == Approx(measured).epsilon(1e-12));
}

TEST_CASE("fp8 reports the values it flushes to zero", "[quantizers][fp8]") {
  const LayerInfo layer = test::Layer({1000});
  // Values in [1, 400] and one at 448: the scale is 1 (e4m3), and only the values set below flush.
  arma::fvec g = arma::clamp(1.0f + arma::abs(test::GaussianSlab(1000, 10.0, 28)), 1.0f, 400.0f);
  g[0] = 448.0f;
  double energy = 0.0;
  for (std::size_t i = 1; i <= 50; ++i) {
    g[i] = std::ldexp(1.0f, -11) * static_cast<float>(i % 2 ? 1 : -1);  // below 2^-10: to ±0
    energy += static_cast<double>(g[i]) * g[i];
  }
  g[51] = std::ldexp(1.0f, -10);  // a tie with 0: to 0 as well
  energy += static_cast<double>(g[51]) * g[51];
  g[52] = std::ldexp(1.5f, -10);  // above the tie: the smallest subnormal
  const auto q = BuiltinRegistry().Make("fp8");
  SlabStats stats;
  const arma::fvec out = Run(*q, g, test::Context(layer, 1), &stats);
  CHECK(stats.at("underflow") == 51);
  CHECK(stats.at("underflow_energy") == Approx(energy).epsilon(1e-12));
  CHECK(out[52] == std::ldexp(1.0f, -9));
  CHECK(out[2] == 0.0f);
  CHECK(std::signbit(out[2]));  // the sign survives the flush
}

TEST_CASE("fp8 rejects corrupt messages with FormatError", "[quantizers][fp8]") {
  const LayerInfo layer = test::Layer({300});
  const SlabContext ctx = test::Context(layer, 1);
  for (const char* spec : {"fp8", "fp8:format=e5m2,bucket=100"}) {
    INFO(spec);
    const auto q = BuiltinRegistry().Make(spec);
    const Message good = q->Encode(test::LaplaceSlab(300, 1.0, 29), ctx, nullptr);
    CHECK_NOTHROW(q->DecodeGroup({good}, ctx));
    auto withByte = [&](std::size_t at, std::uint8_t value) {
      Message m = good;
      m.bytes[at] = value;
      return m;
    };
    CHECK_THROWS_AS(q->DecodeGroup({withByte(10, 0xFF)}, ctx), FormatError);  // NaN code
    CHECK_THROWS_AS(q->DecodeGroup({withByte(0, 0xBF)}, ctx), FormatError);   // σ < 0
    for (const std::uint8_t second : {0x80, 0xC0}) {                          // σ = inf, NaN
      Message m = withByte(0, 0x7F);
      m.bytes[1] = second;
      m.bytes[2] = m.bytes[3] = 0;
      CHECK_THROWS_AS(q->DecodeGroup({m}, ctx), FormatError);
    }
    Message zeroScale = good;  // σ = 0 under nonzero codes
    for (int b = 0; b < 4; ++b) zeroScale.bytes[b] = 0;
    CHECK_THROWS_AS(q->DecodeGroup({zeroScale}, ctx), FormatError);
    Message longer = good;
    longer.bytes.push_back(0);
    longer.bits += 8;
    CHECK_THROWS_AS(q->DecodeGroup({longer}, ctx), FormatError);
    for (std::size_t keep :
         {std::size_t{0}, std::size_t{3}, std::size_t{37}, good.bytes.size() - 1}) {
      Message cut = good;
      cut.bytes.resize(keep);
      cut.bits = 8 * keep;
      CHECK_THROWS_AS(q->DecodeGroup({cut}, ctx), FormatError);
    }
    // Arbitrary bytes of the right length decode to finite values or throw FormatError.
    const Rng rng({9, 9, 9, 9}, Purpose::kTest);
    for (std::uint64_t trial = 0; trial < 200; ++trial) {
      Message junk = good;
      for (std::size_t b = 0; b < junk.bytes.size(); ++b) {
        junk.bytes[b] = static_cast<std::uint8_t>(rng.Word(trial * 4096 + b));
      }
      bool ok = true;
      try {
        const arma::fvec out = q->DecodeGroup({junk}, ctx).workers.at(0);
        ok = out.n_elem == 300 && !out.has_nan();
      } catch (const FormatError&) {
      }
      CHECK(ok);
    }
  }
}

TEST_CASE("Stochastic fp8 is unbiased with the exact variance (Monte Carlo)",
          "[quantizers][fp8][slow]") {
  // 400 seeds over 2000 coordinates; tolerances: the mean squared error within 5 % of the exact
  // value, and the squared bias below 1.5 times its expectation under unbiasedness (exact/runs).
  const LayerInfo layer = test::Layer({2000});
  const arma::fvec g = test::LaplaceSlab(2000, 1e-3, 30);
  for (const char* spec : {"fp8:rounding=stochastic", "fp8:format=e5m2,rounding=stochastic",
                           "fp8:bucket=128,rounding=stochastic"}) {
    INFO(spec);
    test::CheckExactAndUnbiased(*BuiltinRegistry().Make(spec), g, layer, 400, 500);
  }
}

}  // namespace gradquant
