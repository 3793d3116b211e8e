#include "gradquant/quantizers/half_cast.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/float_bits.hpp"
#include "gradquant/quantizers/slab_plan.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per batch (stack buffers)

int Bias(HalfFormat f) { return (1 << (f.exponentBits - 1)) - 1; }
int MinExponent(HalfFormat f) { return 1 - Bias(f); }
// F = (2 − 2^−M)·2^b, the largest finite value.
double MaxFinite(HalfFormat f) {
  return (2.0 - std::ldexp(1.0, -f.mantissaBits)) * std::ldexp(1.0, Bias(f));
}

// The grid spacing u around a > 0: 2^(max(e, e_min) − M), e = ⌊log2 a⌋ (exact, from frexp).
double Spacing(HalfFormat f, double a) {
  int k = 0;
  std::frexp(a, &k);  // a = m·2^k, m ∈ [0.5, 1): e = k − 1
  return std::ldexp(1.0, std::max(k - 1, MinExponent(f)) - f.mantissaBits);
}

// The code of v ≥ 0 on the grid (v ≤ F), with the sign bit.
std::uint32_t GridCode(HalfFormat f, double v, bool negative) {
  const std::uint32_t sign = negative ? 1u << (f.exponentBits + f.mantissaBits) : 0u;
  if (v == 0.0) return sign;
  int k = 0;
  std::frexp(v, &k);
  const int e = k - 1;
  if (e < MinExponent(f)) {  // subnormal: v = m·2^(e_min − M)
    return sign | static_cast<std::uint32_t>(std::ldexp(v, f.mantissaBits - MinExponent(f)));
  }
  const auto field = static_cast<std::uint32_t>(e + Bias(f));
  const auto mantissa = static_cast<std::uint32_t>(std::ldexp(v, f.mantissaBits - e)) -
                        (1u << f.mantissaBits);  // (v/2^e − 1)·2^M
  return sign | field << f.mantissaBits | mantissa;
}

// E(C(t) − t)² of stochastic rounding: unbiased with variance (hi − a)(a − lo) up to F, the
// squared saturation error past it.
double StochasticError(HalfFormat f, float t) {
  const double a = std::fabs(static_cast<double>(t));
  const double top = MaxFinite(f);
  if (a >= top) return (a - top) * (a - top);
  if (a == 0.0) return 0.0;
  const double u = Spacing(f, a), lo = std::floor(a / u) * u;
  return (lo + u - a) * (a - lo);
}

}  // namespace

HalfCode HalfCast(HalfFormat f, float t, double u) {
  HalfCode out;
  const double a = std::fabs(static_cast<double>(t));
  const double top = MaxFinite(f);
  double v = 0.0;
  if (a > top) {
    v = top;
    out.overflow = true;
  } else if (a > 0.0) {
    const double step = Spacing(f, a);
    const double lo = std::floor(a / step) * step;  // exact: a/step is a/2^j
    const double frac = (a - lo) / step;            // ∈ [0, 1)
    bool up = false;
    if (u < 0.0) {  // nearest, ties to even
      up = frac > 0.5 || (frac == 0.5 && std::fmod(lo / step, 2.0) == 1.0);
    } else {
      up = u < frac;
    }
    v = std::min(up ? lo + step : lo, top);
    out.underflow = v == 0.0;
  }
  out.code = GridCode(f, v, std::signbit(t));
  return out;
}

bool HalfValue(HalfFormat f, std::uint32_t code, float* value) {
  const std::uint32_t mantissaMask = (1u << f.mantissaBits) - 1;
  const std::uint32_t fieldMask = (1u << f.exponentBits) - 1;
  const std::uint32_t field = (code >> f.mantissaBits) & fieldMask;
  if (field == fieldMask) return false;
  const double m = static_cast<double>(code & mantissaMask);
  const double magnitude = field == 0 ? std::ldexp(m, MinExponent(f) - f.mantissaBits)
                                      : std::ldexp(1.0 + std::ldexp(m, -f.mantissaBits),
                                                   static_cast<int>(field) - Bias(f));
  const bool negative = (code >> (f.exponentBits + f.mantissaBits)) & 1u;
  *value = static_cast<float>(negative ? -magnitude : magnitude);  // exact in float32
  return true;
}

namespace {

// F and fp16's smallest normal value as float32 patterns: the bit kernels compare |t|'s pattern.
constexpr std::uint32_t kF16MaxBits = 0x477FE000u;        // 65504
constexpr std::uint32_t kF16MinNormalBits = 0x38800000u;  // 2^-14
constexpr std::uint32_t kBf16MaxBits = 0x7F7F0000u;       // (2 − 2^-7)·2^127

// float32 → binary16, round to nearest even, saturating at 65504 (F.Giesen's float_to_half_fast3
// rounding, plus the saturation and the subnormal path through an exact float addition).
std::uint32_t Float16Nearest(std::uint32_t b) {
  const std::uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
  if (a > kF16MaxBits) return sign | 0x7BFFu;
  if (a < kF16MinNormalBits) {
    // |t| + 0.5 rounds |t| to a multiple of 2^-24 (float32's spacing on [0.5, 1)), ties to even.
    return sign | (FloatBits(BitsFloat(a) + 0.5f) - 0x3F000000u);
  }
  const std::uint32_t odd = (a >> 13) & 1u;
  return sign | ((a + (static_cast<std::uint32_t>(15 - 127) << 23) + 0xFFFu + odd) >> 13);
}

// float32 → bfloat16, round to nearest even, saturating at the largest finite bfloat16.
std::uint32_t Bfloat16Nearest(std::uint32_t b) {
  const std::uint32_t r = (b + 0x7FFFu + ((b >> 16) & 1u)) >> 16;
  return (r & 0x7F80u) == 0x7F80u ? (r & 0x8000u) | 0x7F7Fu : r;
}

// Stochastic rounding on the bits. The reference rounds up iff u < frac with u = word·2^−32 and
// frac = (|t| − lo)/spacing = (the bits below the 16-bit grid)/2^k, so up iff word < those bits
// shifted to the top of a 32-bit word.
std::uint32_t Float16Stochastic(std::uint32_t b, std::uint32_t word) {
  const std::uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
  if (a > kF16MaxBits) return sign | 0x7BFFu;
  if (a < kF16MinNormalBits) {  // the grid is 2^-24: |t|·2^24 is exact in float32
    const float x = BitsFloat(a) * 0x1p24f, lo = std::floor(x);
    const bool up = static_cast<double>(word) < static_cast<double>(x - lo) * 0x1p32;
    return sign | (static_cast<std::uint32_t>(lo) + up);
  }
  const bool up = word < (a & 0x1FFFu) << 19;
  return sign | (((a >> 13) - (static_cast<std::uint32_t>(127 - 15) << 10)) + up);
}

std::uint32_t Bfloat16Stochastic(std::uint32_t b, std::uint32_t word) {
  const std::uint32_t sign = (b >> 16) & 0x8000u, a = b & 0x7FFFFFFFu;
  if (a > kBf16MaxBits) return sign | 0x7F7Fu;
  return sign | ((a >> 16) + (word < (a & 0xFFFFu) << 16));
}

// The block loop both roundings share: cast(i, bits) gives the code of a non-NaN value; a NaN
// (never past the dump's policy) gets the signed zero HalfCast gives it; the counts follow.
template <class Cast>
void CastBlock(HalfFormat f, const float* t, std::size_t n, std::uint32_t* codes,
               HalfCounts* counts, Cast&& cast) {
  const std::uint32_t top = f.exponentBits == kFloat16.exponentBits ? kF16MaxBits : kBf16MaxBits;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t b = FloatBits(t[i]), a = b & 0x7FFFFFFFu;
    if (a > 0x7F800000u) {
      codes[i] = (b >> 16) & 0x8000u;
      continue;
    }
    codes[i] = cast(i, b);
    counts->overflow += a > top;
    if ((codes[i] & 0x7FFFu) == 0 && a != 0) {
      ++counts->underflow;
      counts->underflowEnergy += static_cast<double>(t[i]) * static_cast<double>(t[i]);
    }
  }
}

}  // namespace

void HalfNearestCodes(HalfFormat f, const float* t, std::size_t n, std::uint32_t* codes,
                      HalfCounts* counts) {
  const bool half = f.exponentBits == kFloat16.exponentBits;
  CastBlock(f, t, n, codes, counts, [half](std::size_t, std::uint32_t b) {
    return half ? Float16Nearest(b) : Bfloat16Nearest(b);
  });
}

void HalfStochasticCodes(HalfFormat f, const float* t, const std::uint32_t* words, std::size_t n,
                         std::uint32_t* codes, HalfCounts* counts) {
  const bool half = f.exponentBits == kFloat16.exponentBits;
  CastBlock(f, t, n, codes, counts, [half, words](std::size_t i, std::uint32_t b) {
    return half ? Float16Stochastic(b, words[i]) : Bfloat16Stochastic(b, words[i]);
  });
}

bool HalfValues(HalfFormat f, const std::uint32_t* codes, std::size_t n, float* out) {
  std::uint32_t bad = 0;
  if (f.exponentBits == kBfloat16.exponentBits) {
    for (std::size_t i = 0; i < n; ++i) {
      bad |= static_cast<std::uint32_t>((codes[i] & 0x7F80u) == 0x7F80u);
      out[i] = BitsFloat(codes[i] << 16);
    }
    return bad == 0;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t h = codes[i], field = (h >> 10) & 0x1Fu, m = h & 0x3FFu;
    const std::uint32_t sign = (h & 0x8000u) << 16;
    bad |= static_cast<std::uint32_t>(field == 0x1Fu);
    // Normal: rebias the exponent; subnormal: m·2^-24, exact in float32.
    const float magnitude =
        field == 0 ? static_cast<float>(m) * 0x1p-24f : BitsFloat((field + 112u) << 23 | m << 13);
    out[i] = BitsFloat(FloatBits(magnitude) | sign);
  }
  return bad == 0;
}

HalfCastQuantizer::HalfCastQuantizer(Params& params)
    : format_(params.Name() == "bf16" ? kBfloat16 : kFloat16),
      stochastic_(params.Choice("rounding", "nearest", {"nearest", "stochastic"},
                                "nearest-even (saturating at the largest finite value), or "
                                "stochastic rounding between the two neighbours (unbiased)") ==
                  "stochastic"),
      spec_(params.Canonical()) {}

Message HalfCastQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                  SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const SlabPlan plan(g.n_elem, 0);
  std::vector<double> overflow(plan.Pieces(), 0), underflow(plan.Pieces(), 0),
      energy(plan.Pieces(), 0);
  Message m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      HalfCounts counts;
      if (stochastic_) {
        std::uint32_t words[kBlock];
        rng.Words(c, len, words);  // U_i = words[i]·2^-32 = Uniform(c + i)
        HalfStochasticCodes(format_, g.memptr() + c, words, len, codes, &counts);
      } else {
        HalfNearestCodes(format_, g.memptr() + c, len, codes, &counts);
      }
      overflow[p] += static_cast<double>(counts.overflow);
      underflow[p] += static_cast<double>(counts.underflow);
      energy[p] += counts.underflowEnergy;
      w.PutFixed(codes, len, 16);
    }
  });
  if (stats) {
    double o = 0, u = 0, e = 0;
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {  // in piece order: thread-count free
      o += overflow[p];
      u += underflow[p];
      e += energy[p];
    }
    (*stats)["overflow"] = o;
    (*stats)["underflow"] = u;
    (*stats)["underflow_energy"] = e;
  }
  return m;
}

arma::fvec HalfCastQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return 16 * std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t want = std::min(kBlock, seg.end - c);
      // A short message: the whole codes there are, then the next Get fails as it would alone.
      const std::size_t len = std::min<std::uint64_t>(want, in.Remaining() / 16);
      in.GetFixed(codes, len, 16);
      if (!HalfValues(format_, codes, len, out.memptr() + c)) in.Fail("exponent field all ones");
      if (len < want) in.Get(16);
    }
  });
  r.ExpectEnd();
  return out;
}

Theory HalfCastQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  if (stochastic_) {
    for (float x : g) t.exact += StochasticError(format_, x);
    return t;
  }
  // Nearest is deterministic: the error of the cast itself, through the block kernels.
  std::uint32_t codes[kBlock];
  float values[kBlock];
  for (std::size_t c = 0; c < g.n_elem; c += kBlock) {
    const std::size_t len = std::min<std::size_t>(kBlock, g.n_elem - c);
    HalfCounts counts;
    HalfNearestCodes(format_, g.memptr() + c, len, codes, &counts);
    HalfValues(format_, codes, len, values);
    for (std::size_t i = 0; i < len; ++i) {
      const double e = static_cast<double>(values[i]) - static_cast<double>(g[c + i]);
      t.exact += e * e;
    }
  }
  return t;
}

}  // namespace gradquant
