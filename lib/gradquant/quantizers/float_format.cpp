#include "gradquant/quantizers/float_format.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "gradquant/core/float_bits.hpp"

namespace gradquant {
namespace {

int Bias(FloatFormat f) { return (1 << (f.exponentBits - 1)) - 1; }
int MinExponent(FloatFormat f) { return 1 - Bias(f); }

// The grid spacing u around a > 0: 2^(max(e, e_min) − M), e = ⌊log2 a⌋ (exact, from frexp).
double Spacing(FloatFormat f, double a) {
  int k = 0;
  std::frexp(a, &k);  // a = m·2^k, m ∈ [0.5, 1): e = k − 1
  return std::ldexp(1.0, std::max(k - 1, MinExponent(f)) - f.mantissaBits);
}

// lo = ⌊a/u⌋·u and the spacing u of 0 < a ≤ F (exact: a/u is a/2^j).
struct Neighbours {
  double lo, step;
};
Neighbours Around(FloatFormat f, double a) {
  const double step = Spacing(f, a);
  return {std::floor(a / step) * step, step};
}

// The code of v ≥ 0 on the grid (v ≤ F), with the sign bit.
std::uint32_t GridCode(FloatFormat f, double v, bool negative) {
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

}  // namespace

double MaxFinite(FloatFormat f) {
  // IEEE: (2 − 2^−M)·2^b; finite-only: the top binade too, less its NaN code.
  return f.finiteOnly ? (2.0 - std::ldexp(1.0, 1 - f.mantissaBits)) * std::ldexp(1.0, Bias(f) + 1)
                      : (2.0 - std::ldexp(1.0, -f.mantissaBits)) * std::ldexp(1.0, Bias(f));
}

FormatCode FormatCast(FloatFormat f, double t, double u) {
  FormatCode out;
  const double a = std::fabs(t);
  const double top = MaxFinite(f);
  double v = 0.0;
  if (a > top) {
    v = top;
    out.overflow = true;
  } else if (a > 0.0) {
    const auto [lo, step] = Around(f, a);
    const double frac = (a - lo) / step;  // ∈ [0, 1)
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

bool FormatValue(FloatFormat f, std::uint32_t code, float* value) {
  const std::uint32_t mantissaMask = (1u << f.mantissaBits) - 1;
  const std::uint32_t fieldMask = (1u << f.exponentBits) - 1;
  const std::uint32_t field = (code >> f.mantissaBits) & fieldMask;
  const std::uint32_t m = code & mantissaMask;
  if (field == fieldMask && (!f.finiteOnly || m == mantissaMask)) return false;
  const double md = static_cast<double>(m);
  const double magnitude = field == 0 ? std::ldexp(md, MinExponent(f) - f.mantissaBits)
                                      : std::ldexp(1.0 + std::ldexp(md, -f.mantissaBits),
                                                   static_cast<int>(field) - Bias(f));
  const bool negative = (code >> (f.exponentBits + f.mantissaBits)) & 1u;
  *value = static_cast<float>(negative ? -magnitude : magnitude);  // exact in float32
  return true;
}

StochasticChoice StochasticCastChoice(FloatFormat f, double t) {
  const double a = std::fabs(t);
  const double top = MaxFinite(f);
  const bool negative = std::signbit(t);
  StochasticChoice c;
  if (a > top || a == 0.0) {
    c.lo = c.hi = GridCode(f, std::min(a, top), negative);
    return c;
  }
  const auto [lo, step] = Around(f, a);
  c.lo = GridCode(f, lo, negative);
  c.hi = GridCode(f, std::min(lo + step, top), negative);
  // #{w < frac·2^32} words of 2^32 go up; frac·2^32 is exact (a power-of-two scaling).
  c.up = std::ceil((a - lo) / step * 0x1p32) * 0x1p-32;
  return c;
}

double StochasticCastError(FloatFormat f, double t) {
  const double a = std::fabs(t);
  const double top = MaxFinite(f);
  if (a >= top) return (a - top) * (a - top);
  if (a == 0.0) return 0.0;
  const auto [lo, step] = Around(f, a);
  return (lo + step - a) * (a - lo);
}

namespace {

// The IEEE layout of a kernel's input type (float32 or double).
template <class T>
struct Binary {
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  static constexpr int kWidth = 8 * sizeof(T);
  static constexpr int kMantissa = std::numeric_limits<T>::digits - 1;    // 23, 52
  static constexpr int kBias = std::numeric_limits<T>::max_exponent - 1;  // 127, 1023
  static Bits ToBits(T x) { return BitCast<Bits>(x); }
  static T FromBits(Bits b) { return BitCast<T>(b); }
};

// The grid of the format (E, M, finite-only) in the bit patterns of input type T. The input's
// mantissa bits below the grid are the kShift low bits of a normal |t|; rebiasing the exponent
// turns |t|'s pattern into the code's (fp16 from float32: F. Giesen's float_to_half_fast3).
template <class T, int E, int M, bool FN>
struct Grid {
  using In = Binary<T>;
  using Bits = typename In::Bits;
  static constexpr int kBias = (1 << (E - 1)) - 1;
  static constexpr int kMinExponent = 1 - kBias;
  static constexpr int kShift = In::kMantissa - M;
  static constexpr int kMaxExponent = FN ? kBias + 1 : kBias;
  static constexpr std::uint32_t kMaxMantissa = FN ? (1u << M) - 2 : (1u << M) - 1;
  static constexpr std::uint32_t kMaxCode =
      static_cast<std::uint32_t>(kMaxExponent + kBias) << M | kMaxMantissa;
  static constexpr std::uint32_t kSignBit = 1u << (E + M);

  // The pattern of 2^e·(1 + mantissa·2^−M) in T.
  static constexpr Bits Pattern(int e, std::uint32_t mantissa) {
    return static_cast<Bits>(e + In::kBias) << In::kMantissa | static_cast<Bits>(mantissa)
                                                                   << kShift;
  }
  static constexpr Bits kMaxBits = Pattern(kMaxExponent, kMaxMantissa);  // F
  static constexpr Bits kMinNormalBits = Pattern(kMinExponent, 0);
  static constexpr Bits kInfBits = Pattern(In::kBias + 1, 0);
  static constexpr Bits kRebias = static_cast<Bits>(In::kBias - kBias) << In::kMantissa;
  // A narrower exponent range than T's has subnormals of its own, below 2^e_min.
  static constexpr bool kSubnormals = kBias < In::kBias;
  // |t| + C rounds |t| to a multiple of 2^(e_min − M), T's spacing on [C, 2C), ties to even.
  static constexpr Bits kMagic = Pattern(kMinExponent - M + In::kMantissa, 0);
  static constexpr Bits kToGrid = Pattern(M - kMinExponent, 0);  // 2^(M − e_min)

  // The code of |t| (pattern a ≤ inf), nearest-even, saturating.
  static std::uint32_t Nearest(Bits a) {
    if (a > kMaxBits) return kMaxCode;
    if constexpr (kSubnormals) {
      if (a < kMinNormalBits) {
        return static_cast<std::uint32_t>(In::ToBits(In::FromBits(a) + In::FromBits(kMagic)) -
                                          kMagic);
      }
    }
    const Bits odd = (a >> kShift) & 1u;
    return static_cast<std::uint32_t>((a - kRebias + ((Bits{1} << (kShift - 1)) - 1) + odd) >>
                                      kShift);
  }

  // The reference rounds up iff U < frac, U = word·2^−32 and frac = (the bits below the grid)
  // /2^kShift: iff word < ceil(frac·2^32), those bits moved to the top of a 32-bit word.
  static std::uint32_t Stochastic(Bits a, std::uint32_t word) {
    if (a > kMaxBits) return kMaxCode;
    if constexpr (kSubnormals) {
      if (a < kMinNormalBits) {  // the grid is 2^(e_min − M): |t|·2^(M − e_min) is exact
        const T x = In::FromBits(a) * In::FromBits(kToGrid), lo = std::floor(x);
        const bool up = static_cast<double>(word) < static_cast<double>(x - lo) * 0x1p32;
        return static_cast<std::uint32_t>(lo) + up;
      }
    }
    const std::uint64_t below = a & ((Bits{1} << kShift) - 1);
    std::uint64_t threshold;
    if constexpr (kShift <= 32) {
      threshold = below << (32 - kShift);
    } else {
      threshold = (below + (std::uint64_t{1} << (kShift - 32)) - 1) >> (kShift - 32);
    }
    return static_cast<std::uint32_t>((a >> kShift) - (kRebias >> kShift)) + (word < threshold);
  }

  // FormatValue for a block: the code's fields moved into a float32 pattern.
  static constexpr float kSubnormalUnit = static_cast<float>(1.0 / (1ull << (M - kMinExponent)));
  static bool Values(const std::uint32_t* codes, std::size_t n, float* out) {
    constexpr std::uint32_t fieldMask = (1u << E) - 1, mantissaMask = (1u << M) - 1;
    std::uint32_t bad = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t h = codes[i], field = (h >> M) & fieldMask, m = h & mantissaMask;
      bad |= static_cast<std::uint32_t>(field == fieldMask && (!FN || m == mantissaMask));
      if constexpr (kBias == Binary<float>::kBias) {  // float32's range: its top bits
        out[i] = BitsFloat(h << (23 - M));
      } else {
        const std::uint32_t sign = (h & kSignBit) << (31 - E - M);
        // Normal: rebias the exponent; subnormal: m·2^(e_min − M), exact in float32.
        const float magnitude = field == 0
                                    ? static_cast<float>(m) * kSubnormalUnit
                                    : BitsFloat((field + (127 - kBias)) << 23 | m << (23 - M));
        out[i] = BitsFloat(FloatBits(magnitude) | sign);
      }
    }
    return bad == 0;
  }
};

// The block loop of both roundings: cast(i, |t|'s pattern) gives the magnitude's code; a NaN
// (never past the dump's policy) gets the signed zero FormatCast gives it; the counts follow.
template <class G, class T, class Cast>
void CastBlock(const T* t, std::size_t n, std::uint32_t* codes, CastCounts* counts, Cast&& cast) {
  using Bits = typename G::Bits;
  constexpr int top = G::In::kWidth - 1;
  for (std::size_t i = 0; i < n; ++i) {
    const Bits b = G::In::ToBits(t[i]), a = b & ~(Bits{1} << top);
    const std::uint32_t sign = static_cast<std::uint32_t>(b >> top) * G::kSignBit;
    if (a > G::kInfBits) {
      codes[i] = sign;
      continue;
    }
    codes[i] = sign | cast(i, a);
    if (!counts) continue;
    counts->overflow += a > G::kMaxBits;
    if ((codes[i] & (G::kSignBit - 1)) == 0 && a != 0) {
      ++counts->underflow;
      counts->underflowEnergy += static_cast<double>(t[i]) * static_cast<double>(t[i]);
    }
  }
}

// Calls body(Grid<T, ...>{}) for the grid of format f.
template <class T, class Body>
void WithGrid(FloatFormat f, Body&& body) {
  if (f == kFloat16) return body(Grid<T, 5, 10, false>{});
  if (f == kBfloat16) return body(Grid<T, 8, 7, false>{});
  if (f == kFloat8E4m3) return body(Grid<T, 4, 3, true>{});
  if (f == kFloat8E5m2) return body(Grid<T, 5, 2, false>{});
  throw std::invalid_argument(
      "float format without a kernel: E = " + std::to_string(f.exponentBits) +
      ", M = " + std::to_string(f.mantissaBits));
}

template <class T>
void Nearest(FloatFormat f, const T* t, std::size_t n, std::uint32_t* codes, CastCounts* counts) {
  WithGrid<T>(f, [&](auto grid) {
    using G = decltype(grid);
    CastBlock<G>(t, n, codes, counts,
                 [](std::size_t, typename G::Bits a) { return G::Nearest(a); });
  });
}

template <class T>
void Stochastic(FloatFormat f, const T* t, const std::uint32_t* words, std::size_t n,
                std::uint32_t* codes, CastCounts* counts) {
  WithGrid<T>(f, [&](auto grid) {
    using G = decltype(grid);
    CastBlock<G>(t, n, codes, counts,
                 [words](std::size_t i, typename G::Bits a) { return G::Stochastic(a, words[i]); });
  });
}

}  // namespace

void NearestCodes(FloatFormat f, const float* t, std::size_t n, std::uint32_t* codes,
                  CastCounts* counts) {
  Nearest(f, t, n, codes, counts);
}

void NearestCodes(FloatFormat f, const double* t, std::size_t n, std::uint32_t* codes,
                  CastCounts* counts) {
  Nearest(f, t, n, codes, counts);
}

void StochasticCodes(FloatFormat f, const float* t, const std::uint32_t* words, std::size_t n,
                     std::uint32_t* codes, CastCounts* counts) {
  Stochastic(f, t, words, n, codes, counts);
}

void StochasticCodes(FloatFormat f, const double* t, const std::uint32_t* words, std::size_t n,
                     std::uint32_t* codes, CastCounts* counts) {
  Stochastic(f, t, words, n, codes, counts);
}

bool FormatValues(FloatFormat f, const std::uint32_t* codes, std::size_t n, float* out) {
  bool ok = false;
  WithGrid<float>(f, [&](auto grid) { ok = decltype(grid)::Values(codes, n, out); });
  return ok;
}

}  // namespace gradquant
