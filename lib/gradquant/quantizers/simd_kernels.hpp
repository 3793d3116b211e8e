#pragma once
/**
 * @file simd_kernels.hpp
 * The per-coordinate loops of the scalar quantizers, written twice: a portable loop, which
 * defines the result, and an AVX2 loop (chosen at run time where the CPU has it) that performs
 * the same IEEE operations on four lanes: divisions, floors, conversions and comparisons are
 * exact or correctly rounded lane by lane, there is no FMA (-ffp-contract=off) and no
 * reassociation, and every select is written with the operand order that keeps the C++
 * semantics for NaN. So both give the same bits (tests/quantizers/simd_kernels_test.cpp).
 *
 * The compiler does not vectorise these loops itself: floor() under the default
 * -ftrapping-math, and selects on doubles, keep GCC 12 scalar.
 *
 * `words` are Rng words; U_i = UniformFromWord(words[i]) = words[i]·2^-32.
 */
#include <cstddef>
#include <cstdint>

namespace gradquant::kernels {

/** out_i = clamp(floor(g_i/d + U_i), −s, s) + offset (DQSG's dithered index). */
void DitherIndices(const float* g, const std::uint32_t* words, std::size_t n, double d,
                   std::int32_t s, std::int32_t offset, std::int32_t* out);

/**
 * out_i = sign(v_i)·l_i + offset with a_i = |v_i|·ratio, l_i = min(floor(a_i) + [U_i < a_i −
 * floor(a_i)], s) (QSGD's stochastic rounding; sign(v) = −1 for v < 0).
 */
void QsgdLevels(const float* v, const std::uint32_t* words, std::size_t n, double ratio,
                std::int32_t s, std::int32_t offset, std::int32_t* out);

/**
 * TernGrad's digits t_i + 1: x_i = g_i clipped to ±threshold when @p clip, t_i = sign(x_i)
 * when U_i < |x_i|/s, else 0.
 */
void TernaryDigits(const float* g, const std::uint32_t* words, std::size_t n, double s, bool clip,
                   double threshold, std::uint32_t* digits);

/**
 * TNQ's symbols for at most 16 sorted levels (see TnqSymbols): t_i = clamp(g_i, ℓ_0, ℓ_last),
 * j = the last k <= count − 2 with ℓ_k <= t_i (0 if none), symbol j + [U_i < (t_i − ℓ_j)/(ℓ_{j+1}
 * − ℓ_j)] (0 when the width is not positive). Returns how many g_i lie outside [ℓ_0, ℓ_last].
 */
std::size_t TnqSymbolsFew(const float* g, const std::uint32_t* words, std::size_t n,
                          const double* levels, std::size_t count, std::uint32_t* symbols);

/**
 * Natural compression's 9-bit codes (see NaturalCode). Returns the number flushed (inf, NaN,
 * or rounded up past 2^127); counts subnormal inputs in @p subnormal.
 */
std::uint32_t NaturalCodes(const float* g, const std::uint32_t* words, std::size_t n,
                           std::uint32_t* codes, std::uint32_t* subnormal);

/**
 * NDQSG's nested decode (see NestedIndices) with side information y_i = ySum_i / yCount (0 when
 * yCount <= 0): k_i = m_i − ρ·clamp(floor((d(m_i − (U_i − 1/2)) − y_i)/(ρd) + 1/2), −qMax, qMax).
 */
void NestedIndices(const std::uint32_t* m, const std::uint32_t* words, std::size_t n, double d,
                   double rho, double qMax, const double* ySum, double yCount, std::int32_t* k);

/** out_i = table[sym_i] for symbols below @p size (the caller has checked them). */
void Lookup(const std::uint32_t* sym, std::size_t n, const float* table, std::size_t size,
            float* out);

/** max(m, max_i |g_i|) skipping NaN, as `m = std::max(m, std::fabs(g_i))` in order does. */
float MaxAbs(const float* g, std::size_t n, float m);

/** For tests: run the portable loops (and every other portable path, see core/cpu.hpp) even
 * where AVX2 exists (true), or not (false). */
void ForcePortable(bool portable);

}  // namespace gradquant::kernels
