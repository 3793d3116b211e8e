#include "gradquant/quantizers/simd_kernels.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gradquant/core/cpu.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant::kernels {
namespace {

// ---- Portable loops: these define the results. ----

void DitherIndicesPortable(const float* g, const std::uint32_t* words, std::size_t n, double d,
                           std::int32_t s, std::int32_t offset, std::int32_t* out) {
  const double hi = static_cast<double>(s), lo = -hi;
  for (std::size_t i = 0; i < n; ++i) {
    // y + (U - 1/2) + 1/2 = y + U: the floor is the half-up rounding of y + u.
    const double t = std::floor(static_cast<double>(g[i]) / d + UniformFromWord(words[i]));
    const double c = t < lo ? lo : (hi < t ? hi : t);  // std::clamp
    out[i] = static_cast<std::int32_t>(c) + offset;
  }
}

void QsgdLevelsPortable(const float* v, const std::uint32_t* words, std::size_t n, double ratio,
                        std::int32_t s, std::int32_t offset, std::int32_t* out) {
  const double top = static_cast<double>(s);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(v[i]);
    const double a = std::fabs(x) * ratio;
    const double floorA = std::floor(a);
    const double up = floorA + (UniformFromWord(words[i]) < a - floorA ? 1.0 : 0.0);
    const double l = top < up ? top : up;  // std::min(up, s)
    out[i] = static_cast<std::int32_t>(x < 0 ? -l : l) + offset;
  }
}

void TernaryDigitsPortable(const float* g, const std::uint32_t* words, std::size_t n, double s,
                           bool clip, double threshold, std::uint32_t* digits) {
  for (std::size_t i = 0; i < n; ++i) {
    double x = static_cast<double>(g[i]);
    if (clip) x = std::fabs(x) > threshold ? std::copysign(threshold, x) : x;
    // |x| <= s by the rounding of s, so p <= 1; x = 0 gives p = 0 and never fires.
    const bool fire = UniformFromWord(words[i]) < std::fabs(x) / s;
    digits[i] = fire ? (x < 0 ? 0u : 2u) : 1u;
  }
}

std::size_t TnqSymbolsFewPortable(const float* g, const std::uint32_t* words, std::size_t n,
                                  const double* levels, std::size_t count, std::uint32_t* symbols) {
  const double lo = levels[0], hi = levels[count - 1];
  std::size_t clipped = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>(g[i]);
    clipped += (x < lo || x > hi) ? 1 : 0;
    const double t = x < lo ? lo : (hi < x ? hi : x);  // std::clamp
    double left = levels[0], right = levels[1], j = 0.0;
    for (std::size_t k = 1; k + 1 < count; ++k) {
      const bool above = levels[k] <= t;
      left = above ? levels[k] : left;
      right = above ? levels[k + 1] : right;
      j = above ? static_cast<double>(k) : j;
    }
    const double width = right - left;
    const double up = width > 0 ? (t - left) / width : 0.0;
    symbols[i] = static_cast<std::uint32_t>(j + (UniformFromWord(words[i]) < up ? 1.0 : 0.0));
  }
  return clipped;
}

constexpr std::uint32_t kMaxField = 254;
constexpr std::uint32_t kMantissaMask = 0x7FFFFFu;

std::uint32_t NaturalCodesPortable(const float* g, const std::uint32_t* words, std::size_t n,
                                   std::uint32_t* codes, std::uint32_t* subnormal) {
  std::uint32_t flushed = 0, tiny = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, g + i, sizeof bits);
    const std::uint32_t sign = bits >> 31, field = (bits >> 23) & 0xFFu;
    const std::uint32_t mantissa = bits & kMantissaMask;
    const bool special = field == 0xFFu;
    // U < m·2^-23 is word < m·2^9: both exact.
    const bool up = words[i] < (mantissa << 9);
    const bool atTop = field == kMaxField;
    const std::uint32_t rounded = field + (up && !atTop ? 1u : 0u);
    const std::uint32_t specialCode = mantissa == 0 ? (sign << 8 | kMaxField) : 0u;
    codes[i] = special ? specialCode : (sign << 8 | rounded);
    flushed += special || (up && atTop) ? 1u : 0u;
    tiny += field == 0 && mantissa != 0 ? 1u : 0u;
  }
  *subnormal = tiny;
  return flushed;
}

void NestedIndicesPortable(const std::uint32_t* m, const std::uint32_t* words, std::size_t n,
                           double d, double rho, double qMax, const double* ySum, double yCount,
                           std::int32_t* k) {
  const double coarse = d * rho;
  for (std::size_t i = 0; i < n; ++i) {
    const double mi = static_cast<double>(static_cast<std::int32_t>(m[i]));
    const double y = yCount > 0 ? ySum[i] / yCount : 0.0;
    const double r = d * (mi - (UniformFromWord(words[i]) - 0.5)) - y;
    const double f = std::floor(r / coarse + 0.5);
    const double q = f < -qMax ? -qMax : (qMax < f ? qMax : f);  // std::clamp
    k[i] = static_cast<std::int32_t>(mi - rho * q);
  }
}

void LookupPortable(const std::uint32_t* sym, std::size_t n, const float* table, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = table[sym[i]];
}

float MaxAbsPortable(const float* g, std::size_t n, float m) {
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(g[i]));
  return m;
}

// ---- AVX2 loops: the same operations, four doubles (or eight floats/ints) at a time. ----

#define GQ_AVX2 __attribute__((target("avx2")))

// UniformFromWord of four words.
GQ_AVX2 inline __m256d Uniform4(const std::uint32_t* w) {
  const __m128i flipped = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w)),
                                        _mm_set1_epi32(static_cast<int>(0x80000000u)));
  return _mm256_add_pd(_mm256_mul_pd(_mm256_cvtepi32_pd(flipped), _mm256_set1_pd(0x1p-32)),
                       _mm256_set1_pd(0.5));
}

GQ_AVX2 inline __m256d Float4(const float* g) { return _mm256_cvtps_pd(_mm_loadu_ps(g)); }

GQ_AVX2 inline __m256d Abs(__m256d x) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), x); }

// a < b ? b : a per lane (NaN a gives a), i.e. std::max(a, b) with a first.
GQ_AVX2 inline __m256d MaxKeep(__m256d a, __m256d b) { return _mm256_max_pd(b, a); }

// Lo/hi clamp as `t < lo ? lo : (hi < t ? hi : t)`: MAXPD/MINPD return their second operand
// when either is NaN, so NaN t passes through as in the scalar code.
GQ_AVX2 inline __m256d Clamp(__m256d t, __m256d lo, __m256d hi) {
  return _mm256_min_pd(hi, _mm256_max_pd(lo, t));
}

GQ_AVX2 inline void Store4(std::int32_t* out, __m128i v) {
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out), v);
}

// Division by a loop constant d as a product with 1/d, which is 3-4x cheaper than VDIVPD, and
// exact where it matters: only floor(q + u) is used, and RN(g·RN(1/d)) is within |q|·2^-51 of
// RN(g/d), so the two floors can differ only when q + u lies within (|q| + 2)·2^-50 of an
// integer. Lanes that close to an integer (about one in 2^40) are redone with the division.
GQ_AVX2 inline bool NearInteger(__m256d z, __m256d eps) {
  const __m256d frac = _mm256_sub_pd(z, _mm256_floor_pd(z));
  const __m256d sure =
      _mm256_and_pd(_mm256_cmp_pd(frac, eps, _CMP_GT_OQ),
                    _mm256_cmp_pd(frac, _mm256_sub_pd(_mm256_set1_pd(1.0), eps), _CMP_LT_OQ));
  return _mm256_movemask_pd(sure) != 0xF;  // NaN lanes are never sure
}

GQ_AVX2 void DitherIndicesAvx2(const float* g, const std::uint32_t* words, std::size_t n, double d,
                               std::int32_t s, std::int32_t offset, std::int32_t* out) {
  const __m256d vd = _mm256_set1_pd(d), hi = _mm256_set1_pd(s), lo = _mm256_set1_pd(-double(s));
  const __m256d inv = _mm256_set1_pd(1.0 / d);
  // |g/d| <= s by the step's rounding; 2^-44 leaves a margin of 64 over the bound above.
  const __m256d eps = _mm256_set1_pd((static_cast<double>(s) + 2.0) * 0x1p-44);
  const __m128i off = _mm_set1_epi32(offset);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d x = Float4(g + i), u = Uniform4(words + i);
    __m256d z = _mm256_add_pd(_mm256_mul_pd(x, inv), u);
    if (NearInteger(z, eps)) z = _mm256_add_pd(_mm256_div_pd(x, vd), u);
    Store4(out + i, _mm_add_epi32(_mm256_cvttpd_epi32(Clamp(_mm256_floor_pd(z), lo, hi)), off));
  }
  DitherIndicesPortable(g + i, words + i, n - i, d, s, offset, out + i);
}

GQ_AVX2 void QsgdLevelsAvx2(const float* v, const std::uint32_t* words, std::size_t n, double ratio,
                            std::int32_t s, std::int32_t offset, std::int32_t* out) {
  const __m256d vr = _mm256_set1_pd(ratio), top = _mm256_set1_pd(s), one = _mm256_set1_pd(1.0);
  const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
  const __m128i off = _mm_set1_epi32(offset);
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d x = Float4(v + i);
    const __m256d a = _mm256_mul_pd(Abs(x), vr);
    const __m256d floorA = _mm256_floor_pd(a);
    const __m256d fire = _mm256_cmp_pd(Uniform4(words + i), _mm256_sub_pd(a, floorA), _CMP_LT_OQ);
    const __m256d up = _mm256_add_pd(floorA, _mm256_and_pd(fire, one));
    const __m256d l = _mm256_min_pd(top, up);  // top < up ? top : up
    const __m256d negative = _mm256_cmp_pd(x, zero, _CMP_LT_OQ);
    const __m256d level = _mm256_blendv_pd(l, _mm256_xor_pd(l, sign), negative);
    Store4(out + i, _mm_add_epi32(_mm256_cvttpd_epi32(level), off));
  }
  QsgdLevelsPortable(v + i, words + i, n - i, ratio, s, offset, out + i);
}

// u < RN(a/s) from the product a·RN(1/s), which is within a·2^-51 of it: the comparison can
// only differ when u lies within 2^-46·(a/s) + 2^-1000 of the product; such lanes are redone
// with the division.
GQ_AVX2 inline __m256d LessThanQuotient(__m256d u, __m256d a, __m256d vs, __m256d inv) {
  const __m256d p = _mm256_mul_pd(a, inv);
  const __m256d margin =
      _mm256_add_pd(_mm256_mul_pd(p, _mm256_set1_pd(0x1p-46)), _mm256_set1_pd(0x1p-1000));
  const __m256d far = _mm256_cmp_pd(Abs(_mm256_sub_pd(u, p)), margin, _CMP_GT_OQ);
  if (_mm256_movemask_pd(far) == 0xF) return _mm256_cmp_pd(u, p, _CMP_LT_OQ);
  return _mm256_cmp_pd(u, _mm256_div_pd(a, vs), _CMP_LT_OQ);
}

GQ_AVX2 void TernaryDigitsAvx2(const float* g, const std::uint32_t* words, std::size_t n, double s,
                               bool clip, double threshold, std::uint32_t* digits) {
  const __m256d vs = _mm256_set1_pd(s), inv = _mm256_set1_pd(1.0 / s),
                vt = _mm256_set1_pd(threshold);
  const __m256d zero = _mm256_setzero_pd(), sign = _mm256_set1_pd(-0.0);
  const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0);
  const __m256d absThreshold = Abs(vt);  // copysign(threshold, x) = |threshold| with x's sign
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    __m256d x = Float4(g + i);
    if (clip) {
      const __m256d big = _mm256_cmp_pd(Abs(x), vt, _CMP_GT_OQ);
      const __m256d signed_ = _mm256_or_pd(_mm256_and_pd(x, sign), absThreshold);
      x = _mm256_blendv_pd(x, signed_, big);
    }
    const __m256d fire = LessThanQuotient(Uniform4(words + i), Abs(x), vs, inv);
    const __m256d negative = _mm256_cmp_pd(x, zero, _CMP_LT_OQ);
    const __m256d digit = _mm256_blendv_pd(one, _mm256_blendv_pd(two, zero, negative), fire);
    Store4(reinterpret_cast<std::int32_t*>(digits + i), _mm256_cvttpd_epi32(digit));
  }
  TernaryDigitsPortable(g + i, words + i, n - i, s, clip, threshold, digits + i);
}

GQ_AVX2 std::size_t TnqSymbolsFewAvx2(const float* g, const std::uint32_t* words, std::size_t n,
                                      const double* levels, std::size_t count,
                                      std::uint32_t* symbols) {
  const __m256d lo = _mm256_set1_pd(levels[0]), hi = _mm256_set1_pd(levels[count - 1]);
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
  __m256d level[16], index[16], inverse[16];  // count <= 16 (TnqSymbolsFew's contract)
  for (std::size_t k = 0; k < count; ++k) {
    level[k] = _mm256_set1_pd(levels[k]);
    index[k] = _mm256_set1_pd(static_cast<double>(k));
    const double width = k + 1 < count ? levels[k + 1] - levels[k] : 0.0;
    inverse[k] = _mm256_set1_pd(width > 0 ? 1.0 / width : 0.0);
  }
  std::size_t clipped = 0, i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d x = Float4(g + i);
    const __m256d out =
        _mm256_or_pd(_mm256_cmp_pd(x, lo, _CMP_LT_OQ), _mm256_cmp_pd(x, hi, _CMP_GT_OQ));
    clipped += static_cast<std::size_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(out))));
    const __m256d t = Clamp(x, lo, hi);
    __m256d left = level[0], right = level[1], inv = inverse[0], j = zero;
    for (std::size_t k = 1; k + 1 < count; ++k) {
      const __m256d above = _mm256_cmp_pd(level[k], t, _CMP_LE_OQ);
      left = _mm256_blendv_pd(left, level[k], above);
      right = _mm256_blendv_pd(right, level[k + 1], above);
      inv = _mm256_blendv_pd(inv, inverse[k], above);
      j = _mm256_blendv_pd(j, index[k], above);
    }
    // u < (t − ℓ_j)/width, by the product with 1/width unless a lane is too close to call (see
    // LessThanQuotient); a cell of width <= 0 gives 0 either way.
    const __m256d u = Uniform4(words + i);
    const __m256d a = _mm256_sub_pd(t, left);
    const __m256d p = _mm256_mul_pd(a, inv);
    const __m256d margin =
        _mm256_add_pd(_mm256_mul_pd(Abs(p), _mm256_set1_pd(0x1p-46)), _mm256_set1_pd(0x1p-1000));
    __m256d fire;
    if (_mm256_movemask_pd(_mm256_cmp_pd(Abs(_mm256_sub_pd(u, p)), margin, _CMP_GT_OQ)) == 0xF) {
      fire = _mm256_cmp_pd(u, p, _CMP_LT_OQ);
    } else {
      const __m256d width = _mm256_sub_pd(right, left);
      const __m256d up =
          _mm256_blendv_pd(zero, _mm256_div_pd(a, width), _mm256_cmp_pd(width, zero, _CMP_GT_OQ));
      fire = _mm256_cmp_pd(u, up, _CMP_LT_OQ);
    }
    const __m256d symbol = _mm256_add_pd(j, _mm256_and_pd(fire, one));
    Store4(reinterpret_cast<std::int32_t*>(symbols + i), _mm256_cvttpd_epi32(symbol));
  }
  return clipped + TnqSymbolsFewPortable(g + i, words + i, n - i, levels, count, symbols + i);
}

GQ_AVX2 std::uint32_t NaturalCodesAvx2(const float* g, const std::uint32_t* words, std::size_t n,
                                       std::uint32_t* codes, std::uint32_t* subnormal) {
  const __m256i ff = _mm256_set1_epi32(0xFF), mask = _mm256_set1_epi32(kMantissaMask);
  const __m256i top = _mm256_set1_epi32(kMaxField), one = _mm256_set1_epi32(1);
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i zero = _mm256_setzero_si256();
  std::uint32_t flushed = 0, tiny = 0;
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g + i));
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(words + i));
    const __m256i sign8 = _mm256_slli_epi32(_mm256_srli_epi32(bits, 31), 8);
    const __m256i field = _mm256_and_si256(_mm256_srli_epi32(bits, 23), ff);
    const __m256i mantissa = _mm256_and_si256(bits, mask);
    const __m256i special = _mm256_cmpeq_epi32(field, ff);
    // Unsigned word < mantissa·2^9, as a signed comparison of both with the top bit flipped.
    const __m256i up = _mm256_cmpgt_epi32(_mm256_xor_si256(_mm256_slli_epi32(mantissa, 9), flip),
                                          _mm256_xor_si256(w, flip));
    const __m256i atTop = _mm256_cmpeq_epi32(field, top);
    const __m256i rounded =
        _mm256_add_epi32(field, _mm256_and_si256(_mm256_andnot_si256(atTop, up), one));
    const __m256i noMantissa = _mm256_cmpeq_epi32(mantissa, zero);
    const __m256i specialCode = _mm256_and_si256(noMantissa, _mm256_or_si256(sign8, top));
    const __m256i code = _mm256_blendv_epi8(_mm256_or_si256(sign8, rounded), specialCode, special);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), code);
    const __m256i flush = _mm256_or_si256(special, _mm256_and_si256(up, atTop));
    const __m256i sub = _mm256_andnot_si256(noMantissa, _mm256_cmpeq_epi32(field, zero));
    flushed += static_cast<std::uint32_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(flush)))));
    tiny += static_cast<std::uint32_t>(
        __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(sub)))));
  }
  std::uint32_t rest = 0;
  flushed += NaturalCodesPortable(g + i, words + i, n - i, codes + i, &rest);
  *subnormal = tiny + rest;
  return flushed;
}

GQ_AVX2 void NestedIndicesAvx2(const std::uint32_t* m, const std::uint32_t* words, std::size_t n,
                               double d, double rho, double qMax, const double* ySum, double yCount,
                               std::int32_t* k) {
  const __m256d vd = _mm256_set1_pd(d), vrho = _mm256_set1_pd(rho);
  const __m256d coarse = _mm256_set1_pd(d * rho), half = _mm256_set1_pd(0.5);
  const __m256d invCoarse = _mm256_set1_pd(1.0 / (d * rho));
  const __m256d qHi = _mm256_set1_pd(qMax), qLo = _mm256_set1_pd(-qMax);
  const __m256d count = _mm256_set1_pd(yCount);
  const bool haveSide = yCount > 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d mi = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(m + i)));
    const __m256d y =
        haveSide ? _mm256_div_pd(_mm256_loadu_pd(ySum + i), count) : _mm256_setzero_pd();
    const __m256d r = _mm256_sub_pd(
        _mm256_mul_pd(vd, _mm256_sub_pd(mi, _mm256_sub_pd(Uniform4(words + i), half))), y);
    // r/coarse as a product with its inverse unless a lane is too close to call (NearInteger,
    // with a margin relative to |z|: the quotient is not bounded here).
    __m256d z = _mm256_add_pd(_mm256_mul_pd(r, invCoarse), half);
    const __m256d eps =
        _mm256_mul_pd(_mm256_add_pd(Abs(z), _mm256_set1_pd(2.0)), _mm256_set1_pd(0x1p-44));
    if (NearInteger(z, eps)) z = _mm256_add_pd(_mm256_div_pd(r, coarse), half);
    const __m256d f = _mm256_floor_pd(z);
    const __m256d q = Clamp(f, qLo, qHi);
    Store4(k + i, _mm256_cvttpd_epi32(_mm256_sub_pd(mi, _mm256_mul_pd(vrho, q))));
  }
  NestedIndicesPortable(m + i, words + i, n - i, d, rho, qMax, ySum + i, yCount, k + i);
}

// Up to 8 entries: one lane permutation per 8 symbols.
GQ_AVX2 void Lookup8Avx2(const std::uint32_t* sym, std::size_t n, const float* table,
                         std::size_t size, float* out) {
  float padded[8] = {};
  for (std::size_t k = 0; k < size; ++k) padded[k] = table[k];
  const __m256 t = _mm256_loadu_ps(padded);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(sym + i));
    _mm256_storeu_ps(out + i, _mm256_permutevar8x32_ps(t, idx));
  }
  LookupPortable(sym + i, n - i, table, out + i);
}

GQ_AVX2 float MaxAbsAvx2(const float* g, std::size_t n, float m) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 acc = _mm256_setzero_ps();
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    // acc < x ? x : acc, which skips NaN x like std::max(acc, x).
    acc = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(g + i)), acc);
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, acc);
  for (float x : lanes) m = std::max(m, x);  // maxima of non-NaN values: any order
  return MaxAbsPortable(g + i, n - i, m);
}

#undef GQ_AVX2

}  // namespace

void DitherIndices(const float* g, const std::uint32_t* words, std::size_t n, double d,
                   std::int32_t s, std::int32_t offset, std::int32_t* out) {
  (UseAvx2() ? DitherIndicesAvx2 : DitherIndicesPortable)(g, words, n, d, s, offset, out);
}

void QsgdLevels(const float* v, const std::uint32_t* words, std::size_t n, double ratio,
                std::int32_t s, std::int32_t offset, std::int32_t* out) {
  (UseAvx2() ? QsgdLevelsAvx2 : QsgdLevelsPortable)(v, words, n, ratio, s, offset, out);
}

void TernaryDigits(const float* g, const std::uint32_t* words, std::size_t n, double s, bool clip,
                   double threshold, std::uint32_t* digits) {
  (UseAvx2() ? TernaryDigitsAvx2 : TernaryDigitsPortable)(g, words, n, s, clip, threshold, digits);
}

std::size_t TnqSymbolsFew(const float* g, const std::uint32_t* words, std::size_t n,
                          const double* levels, std::size_t count, std::uint32_t* symbols) {
  return (UseAvx2() ? TnqSymbolsFewAvx2 : TnqSymbolsFewPortable)(g, words, n, levels, count,
                                                                 symbols);
}

std::uint32_t NaturalCodes(const float* g, const std::uint32_t* words, std::size_t n,
                           std::uint32_t* codes, std::uint32_t* subnormal) {
  return (UseAvx2() ? NaturalCodesAvx2 : NaturalCodesPortable)(g, words, n, codes, subnormal);
}

void NestedIndices(const std::uint32_t* m, const std::uint32_t* words, std::size_t n, double d,
                   double rho, double qMax, const double* ySum, double yCount, std::int32_t* k) {
  (UseAvx2() ? NestedIndicesAvx2 : NestedIndicesPortable)(m, words, n, d, rho, qMax, ySum, yCount,
                                                          k);
}

void Lookup(const std::uint32_t* sym, std::size_t n, const float* table, std::size_t size,
            float* out) {
  if (size <= 8 && UseAvx2()) {
    Lookup8Avx2(sym, n, table, size, out);
  } else {
    LookupPortable(sym, n, table, out);
  }
}

float MaxAbs(const float* g, std::size_t n, float m) {
  return (UseAvx2() ? MaxAbsAvx2 : MaxAbsPortable)(g, n, m);
}

void ForcePortable(bool portable) { ForcePortablePaths(portable); }

}  // namespace gradquant::kernels
