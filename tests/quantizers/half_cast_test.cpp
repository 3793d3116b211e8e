// fp16 and bf16 (quantizers/half_cast.hpp, casts of quantizers/float_format.hpp): known codes,
// every code round trip, agreement with independent references (bfloat16's bit-trick rounding, the
// compiler's _Float16), saturation and underflow stats, the bit count, and stochastic rounding's
// unbiasedness and exact variance.
#include "gradquant/quantizers/half_cast.hpp"

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/random/rng.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

std::uint32_t Nearest(FloatFormat f, float t) { return FormatCast(f, t, -1.0).code; }

std::uint32_t Bits(float t) {
  std::uint32_t b;
  std::memcpy(&b, &t, sizeof b);
  return b;
}

}  // namespace

TEST_CASE("fp16 and bf16 nearest-even codes of known values", "[quantizers][half]") {
  CHECK(Nearest(kFloat16, 1.0f) == 0x3C00);
  CHECK(Nearest(kFloat16, -2.0f) == 0xC000);
  CHECK(Nearest(kFloat16, 65504.0f) == 0x7BFF);                          // F
  CHECK(Nearest(kFloat16, std::ldexp(1.0f, -24)) == 0x0001);             // smallest subnormal
  CHECK(Nearest(kFloat16, std::ldexp(1.0f, -25)) == 0x0000);             // tie with 0: even
  CHECK(Nearest(kFloat16, 0.75f * std::ldexp(1.0f, -24)) == 1);          // above the tie
  CHECK(Nearest(kFloat16, 1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie: even is 1
  CHECK(Nearest(kFloat16, 1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie: even is up
  CHECK(Nearest(kBfloat16, 1.0f) == 0x3F80);
  CHECK(Nearest(kBfloat16, 3.14159265f) == 0x4049);
  const FormatCode over = FormatCast(kFloat16, 70000.0f, -1.0);
  CHECK(over.code == 0x7BFF);  // saturates to F, never inf
  CHECK(over.overflow);
  const FormatCode big = FormatCast(kBfloat16, -FLT_MAX, -1.0);
  CHECK(big.code == 0xFF7F);  // -F: FLT_MAX lies past bfloat16's largest finite value
  CHECK(big.overflow);
  const FormatCode tiny = FormatCast(kFloat16, 1e-9f, -1.0);
  CHECK(tiny.code == 0);
  CHECK(tiny.underflow);
  CHECK_FALSE(FormatCast(kBfloat16, 1e-9f, -1.0).underflow);  // float32's range
}

TEST_CASE("Every fp16 and bf16 code decodes to a float that casts back to it",
          "[quantizers][half]") {
  for (const FloatFormat f : {kFloat16, kBfloat16}) {
    const std::uint32_t fieldMask = (1u << f.exponentBits) - 1;
    std::size_t rejected = 0;
    for (std::uint32_t code = 0; code < 0x10000; ++code) {
      float v = 0.0f;
      if (!FormatValue(f, code, &v)) {
        CHECK(((code >> f.mantissaBits) & fieldMask) == fieldMask);
        ++rejected;
        continue;
      }
      INFO("code " << code);
      REQUIRE(std::isfinite(v));
      CHECK(Nearest(f, v) == code);
      CHECK(FormatCast(f, v, 0.999).code == code);  // on the grid: no rounding either way
    }
    CHECK(rejected == 2u << f.mantissaBits);  // ±inf and the NaNs, never sent
  }
}

TEST_CASE("The block kernels give FormatCast's codes and FormatValue's values",
          "[quantizers][half]") {
  for (const FloatFormat f : {kFloat16, kBfloat16}) {
    // Every grid value, every midpoint between neighbours (a tie) and the floats just either
    // side of it, float32's subnormals and range ends, and random values of every magnitude.
    std::vector<float> t = {0.0f,     -0.0f,    FLT_MIN,  -FLT_MIN,  std::ldexp(1.0f, -149),
                            FLT_MAX,  -FLT_MAX, INFINITY, -INFINITY, NAN,
                            65504.0f, 65519.0f, 65520.0f, 70000.0f};
    for (std::uint32_t code = 0; code < 0x10000; ++code) {
      float v = 0.0f, next = 0.0f;
      if (!FormatValue(f, code, &v) || !FormatValue(f, code + 1, &next)) continue;
      if ((code & 0x7FFFu) == 0x7FFFu) continue;  // code + 1 crosses into the other sign
      const float mid = static_cast<float>((static_cast<double>(v) + next) / 2);
      for (float x : {v, mid, std::nextafter(mid, -INFINITY), std::nextafter(mid, INFINITY)}) {
        t.push_back(x);
      }
    }
    const arma::fvec r = test::WideRangeSlab(20000, 60.0, 11);
    t.insert(t.end(), r.begin(), r.end());
    std::vector<std::uint32_t> codes(t.size());
    CastCounts counts;
    NearestCodes(f, t.data(), t.size(), codes.data(), &counts);
    CastCounts expected;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const FormatCode h = FormatCast(f, t[i], -1.0);
      INFO("t = " << t[i]);
      REQUIRE(codes[i] == h.code);
      expected.overflow += h.overflow;
      expected.underflow += h.underflow;
    }
    CHECK(counts.overflow == expected.overflow);
    CHECK(counts.underflow == expected.underflow);
    // Stochastic: the same values against the reference with the same uniforms, each value
    // under several words (0, the extremes, and the generator's).
    const Rng rng({1, 2, 3, 4}, Purpose::kTest);
    for (const std::uint32_t fixed : {0u, 1u, 0x80000000u, 0xFFFFFFFFu, 7u}) {
      std::vector<std::uint32_t> words(t.size(), fixed);
      if (fixed == 7u) rng.Words(0, words.size(), words.data());
      CastCounts sc;
      StochasticCodes(f, t.data(), words.data(), t.size(), codes.data(), &sc);
      for (std::size_t i = 0; i < t.size(); ++i) {
        INFO("t = " << t[i] << ", word " << words[i]);
        REQUIRE(codes[i] == FormatCast(f, t[i], words[i] * 0x1p-32).code);
      }
    }
    std::vector<std::uint32_t> all;
    for (std::uint32_t code = 0; code < 0x10000; ++code) {
      float v = 0.0f;
      if (FormatValue(f, code, &v)) all.push_back(code);
    }
    std::vector<float> fast(all.size());
    REQUIRE(FormatValues(f, all.data(), all.size(), fast.data()));
    for (std::size_t i = 0; i < all.size(); ++i) {
      float v = 0.0f;
      FormatValue(f, all[i], &v);
      REQUIRE(Bits(fast[i]) == Bits(v));
    }
    const std::uint32_t inf = f.exponentBits == 5 ? 0x7C00u : 0x7F80u;
    float out = 0.0f;
    CHECK_FALSE(FormatValues(f, &inf, 1, &out));
  }
}

TEST_CASE("bf16 nearest agrees with the bit-trick rounding of float32", "[quantizers][half]") {
  const arma::fvec g = test::GaussianSlab(100000, 1.0, 3) % test::LaplaceSlab(100000, 1e3, 4);
  for (float t : g) {
    const std::uint32_t b = Bits(t);
    const std::uint32_t reference = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
    REQUIRE(Nearest(kBfloat16, t) == reference);
  }
}

#if defined(__FLT16_MAX__)
TEST_CASE("fp16 nearest agrees with the compiler's _Float16 conversion", "[quantizers][half]") {
  const arma::fvec g = test::LaplaceSlab(100000, 1.0, 5) % test::LaplaceSlab(100000, 100.0, 6);
  std::size_t checked = 0;
  for (float t : g) {
    if (std::fabs(t) > 65504.0f) continue;  // _Float16 gives inf there; we saturate
    const _Float16 h = static_cast<_Float16>(t);
    std::uint16_t reference;
    std::memcpy(&reference, &h, sizeof reference);
    REQUIRE(Nearest(kFloat16, t) == reference);
    ++checked;
  }
  CHECK(checked > 90000);
}
#endif

TEST_CASE("fp16 sends 16 bits per coordinate and reports the mass it flushes",
          "[quantizers][half]") {
  const LayerInfo layer = test::Layer({1000});
  arma::fvec g = test::GaussianSlab(1000, 1.0, 8);
  for (std::size_t i = 0; i < 100; ++i) g[i] = 1e-10f * static_cast<float>(i + 1);  // below 2^-25
  g[500] = 1e6f;                                                                    // past F
  double energy = 0.0;
  for (std::size_t i = 0; i < 100; ++i) energy += static_cast<double>(g[i]) * g[i];
  const auto q = BuiltinRegistry().Make("fp16");
  SlabStats stats;
  const Message m = q->Encode(g, test::Context(layer, 1), &stats);
  CHECK(m.bits == 16000);
  CHECK(stats.at("overflow") == 1);
  CHECK(stats.at("underflow") == 100);
  CHECK(stats.at("underflow_energy") == Approx(energy).epsilon(1e-12));
  const arma::fvec out = q->DecodeGroup({m}, test::Context(layer, 1)).workers.at(0);
  CHECK(out[500] == 65504.0f);
  CHECK(out[0] == 0.0f);
  // Deterministic: the exact theory is the measured error.
  const double measured = arma::accu(arma::square(arma::conv_to<arma::vec>::from(out - g)));
  CHECK(q->ExpectedError(g, test::Context(layer, 1)).exact == Approx(measured).epsilon(1e-6));
}

TEST_CASE("Stochastic fp16 and bf16 are unbiased with the exact variance (Monte Carlo)",
          "[quantizers][half][slow]") {
  // 400 seeds over 2000 coordinates; tolerances: the mean within 5 standard errors per
  // coordinate on average, the mean squared error within 5 % of the exact value.
  const LayerInfo layer = test::Layer({2000});
  const arma::fvec g = test::LaplaceSlab(2000, 1e-3, 9);
  for (const char* spec : {"fp16:rounding=stochastic", "bf16:rounding=stochastic"}) {
    INFO(spec);
    test::CheckExactAndUnbiased(*BuiltinRegistry().Make(spec), g, layer, 400, 100);
  }
}

}  // namespace gradquant
