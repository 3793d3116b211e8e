#pragma once
/**
 * @file float_format.hpp
 * Small binary floating-point formats and the saturating casts to them that `fp16`, `bf16` and
 * `fp8` send (docs/quantizers.md#fp16-and-bf16, docs/quantizers.md#fp8).
 *
 * A format with E exponent bits and M mantissa bits has bias b = 2^(E−1) − 1, smallest normal
 * exponent e_min = 1 − b and gradual underflow below 2^e_min (subnormals m·2^(e_min − M)). Its
 * largest finite value F depends on what the all-ones exponent field means:
 * - IEEE-like formats (fp16, bf16, OCP FP8 E5M2) keep it for inf and NaN:
 *   F = (2 − 2^−M)·2^b (fp16: 65504; bf16: about 3.39·10^38; E5M2: 57344);
 * - finite-only formats (OCP FP8 E4M3) have no infinities: the all-ones field is one more binade
 *   of normal values and only its all-ones mantissa is NaN: F = (2 − 2^(1−M))·2^(b+1) (448).
 *
 * For |t| ≤ F the two neighbours of |t| on the grid are lo = ⌊|t|/u⌋·u and hi = lo + u, with
 * spacing u = 2^(max(e, e_min) − M), e = ⌊log2 |t|⌋.
 * - nearest: the nearer neighbour, ties to the even code (IEEE round-to-nearest-even);
 * - stochastic: hi iff U < (|t| − lo)/u, for a uniform U = word·2^−32 of the shared generator:
 *   unbiased, with variance (hi − |t|)(|t| − lo).
 * Both saturate: |t| > F becomes ±F, never ±inf (an inf would poison an aggregate).
 *
 * A code is the sign bit (1 = negative), then the E exponent bits, then the M mantissa bits, in
 * the low 1 + E + M bits of a word. FormatCast and FormatValue are the references (arithmetic in
 * double); the block kernels reach the same codes and values by integer operations on the
 * input's IEEE pattern (float32 or double input), checked against the references on every code,
 * every tie and its neighbours (tests/quantizers/half_cast_test.cpp,
 * tests/quantizers/fp8_test.cpp).
 */
#include <cstddef>
#include <cstdint>

namespace gradquant {

/** A small binary floating-point format: exponent and mantissa widths, and what all-ones means. */
struct FloatFormat {
  int exponentBits;
  int mantissaBits;
  bool finiteOnly = false;  ///< no infinities: the all-ones exponent is a binade (OCP E4M3)

  bool operator==(const FloatFormat& o) const {
    return exponentBits == o.exponentBits && mantissaBits == o.mantissaBits &&
           finiteOnly == o.finiteOnly;
  }
};

inline constexpr FloatFormat kFloat16{5, 10, false};    ///< IEEE binary16
inline constexpr FloatFormat kBfloat16{8, 7, false};    ///< bfloat16
inline constexpr FloatFormat kFloat8E4m3{4, 3, true};   ///< OCP FP8 E4M3: bias 7, max 448
inline constexpr FloatFormat kFloat8E5m2{5, 2, false};  ///< OCP FP8 E5M2: bias 15, max 57344

/** F, the largest finite value of @p format. */
double MaxFinite(FloatFormat format);

/** What the cast of one value gave. */
struct FormatCode {
  std::uint32_t code = 0;  ///< the 1 + E + M bit pattern
  bool overflow = false;   ///< |t| > F: saturated to ±F
  bool underflow = false;  ///< t ≠ 0 sent as 0
};

/**
 * The code of finite @p t in @p format: nearest-even when @p u < 0, else stochastic with the
 * uniform @p u ∈ [0, 1). The reference: arithmetic in double.
 */
FormatCode FormatCast(FloatFormat format, double t, double u);

/** The value of a code; false (and *value untouched) for an inf or NaN pattern. */
bool FormatValue(FloatFormat format, std::uint32_t code, float* value);

/** The two codes stochastic rounding of one value chooses between, and how often it goes up. */
struct StochasticChoice {
  std::uint32_t lo = 0;  ///< the code of lo (of ±F past F)
  std::uint32_t hi = 0;  ///< the code of hi (= lo on the grid and past F)
  double up = 0.0;  ///< P(hi) = P(U < frac) = ceil(frac·2^32)·2^−32 for U on the 2^−32 grid
};

/** FormatCast(format, t, U)'s two outcomes and P(hi) over the generator's uniforms U. */
StochasticChoice StochasticCastChoice(FloatFormat format, double t);

/**
 * E(C(t) − t)² of stochastic rounding with an exact uniform: (hi − |t|)(|t| − lo) up to F, the
 * squared saturation error (|t| − F)² past it.
 */
double StochasticCastError(FloatFormat format, double t);

/** Totals of a block's casts. */
struct CastCounts {
  std::size_t overflow = 0, underflow = 0;
  double underflowEnergy = 0;  ///< Σ t² of the underflowed values, in index order

  /** Adds another block's totals (its energy as one term: sums follow the order of blocks). */
  CastCounts& operator+=(const CastCounts& o) {
    overflow += o.overflow;
    underflow += o.underflow;
    underflowEnergy += o.underflowEnergy;
    return *this;
  }
};

/**
 * FormatCast(format, t[i], −1) for a block, by bit manipulation (the same codes). A NaN gets the
 * signed zero. @p counts may be null. @throws std::invalid_argument for a format other than the
 * four above.
 */
void NearestCodes(FloatFormat format, const float* t, std::size_t n, std::uint32_t* codes,
                  CastCounts* counts);
/** The same from double inputs. */
void NearestCodes(FloatFormat format, const double* t, std::size_t n, std::uint32_t* codes,
                  CastCounts* counts);

/**
 * FormatCast(format, t[i], words[i]·2^−32) for a block (stochastic rounding with the
 * generator's 32-bit words), by integer comparisons on the bits: the same codes.
 */
void StochasticCodes(FloatFormat format, const float* t, const std::uint32_t* words, std::size_t n,
                     std::uint32_t* codes, CastCounts* counts);
/** The same from double inputs. */
void StochasticCodes(FloatFormat format, const double* t, const std::uint32_t* words, std::size_t n,
                     std::uint32_t* codes, CastCounts* counts);

/** FormatValue for a block; false when some code is an inf or NaN pattern. */
bool FormatValues(FloatFormat format, const std::uint32_t* codes, std::size_t n, float* out);

}  // namespace gradquant
