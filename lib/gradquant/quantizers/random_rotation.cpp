#include "gradquant/quantizers/random_rotation.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "gradquant/core/float_bits.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/slab_sums.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 16;  // coordinates per parallel output chunk

// The sign bit of σ_i, at bit 31 (0 or 0x80000000), from the MSB-first sign words.
inline std::uint32_t SignBit(const std::uint32_t* signs, std::size_t i) {
  return ((signs[i >> 5] >> (31 - (i & 31))) & 1u) << 31;
}

// σ_i·scale·x_i, ±0 for a non-finite x_i. Selected by a mask, not a branch, so it vectorises.
inline float Flip(float x, float scale, std::uint32_t sign) {
  const std::uint32_t finite = (FloatBits(x) & 0x7F800000u) != 0x7F800000u ? ~0u : 0u;
  return BitsFloat((FloatBits(x * scale) & finite) ^ sign);
}

// σ_i·clamp(m·y_i, ±FLT_MAX), rounded to float32 once.
inline float Scaled(float y, double m, std::uint32_t sign) {
  const double v =
      std::min(std::max(m * static_cast<double>(y), -double{FLT_MAX}), double{FLT_MAX});
  return BitsFloat(FloatBits(static_cast<float>(v)) ^ sign);
}

// out_i = op(in_i, σ_i's sign bit) for i in [first, end), first a multiple of 32: whole sign
// words with constant shifts (so the loop vectorises), then the rest.
template <class Op>
inline __attribute__((always_inline)) void BySignWord(const float* in, const std::uint32_t* signs,
                                                      std::size_t first, std::size_t end,
                                                      float* out, Op op) {
  std::size_t i = first;
  for (; i + 32 <= end; i += 32) {
    const std::uint32_t word = signs[i >> 5];
    for (std::size_t j = 0; j < 32; ++j)
      out[i + j] = op(in[i + j], ((word >> (31 - j)) & 1u) << 31);
  }
  for (; i < end; ++i) out[i] = op(in[i], SignBit(signs, i));
}

// y_i = σ_i·scale·x_i for i in [first, end), then zeros up to first + count.
__attribute__((target_clones("avx2", "default"))) void FlipBlock(const float* x,
                                                                 const std::uint32_t* signs,
                                                                 float scale, std::size_t first,
                                                                 std::size_t end, std::size_t count,
                                                                 float* y) {
  BySignWord(x, signs, first, end, y,
             [scale](float v, std::uint32_t sign) { return Flip(v, scale, sign); });
  std::fill(y + std::max(first, end), y + first + count, 0.0f);
}

__attribute__((target_clones("avx2", "default"))) void ScaleBlock(const float* y,
                                                                  const std::uint32_t* signs,
                                                                  double m, std::size_t first,
                                                                  std::size_t end, float* out) {
  BySignWord(y, signs, first, end, out,
             [m](float v, std::uint32_t sign) { return Scaled(v, m, sign); });
}

// Σ x_i² with non-finite values as 0 (the rare path: SumSquaresFixedOrder saw one).
double FiniteSumSquares(const float* x, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(x[i])) sum += static_cast<double>(x[i]) * x[i];
  }
  return sum;
}

}  // namespace

RandomRotation::RandomRotation(std::size_t n, const StreamKey& key)
    : n_(n), d_(n == 0 ? 0 : NextPowerOfTwo(n)), signs_((d_ + 31) / 32) {
  Rng(key, Purpose::kRotation).Words(0, signs_.size(), signs_.data());
}

RotatedSlab RandomRotation::Forward(const float* x, float* y) const {
  RotatedSlab out;
  out.normSq = SumSquaresFixedOrder(x, n_);
  if (!std::isfinite(out.normSq)) out.normSq = FiniteSumSquares(x, n_);
  const double norm = std::sqrt(out.normSq);
  if (norm > 0 && (norm < 0x1p-60 || norm * std::sqrt(static_cast<double>(n_)) >= 0x1p126)) {
    out.exponent = std::ilogb(norm);
    out.normSq = std::ldexp(out.normSq, -2 * out.exponent);  // exact: a power of two
  }
  const float scale = std::ldexp(1.0f, -out.exponent);
  Hadamard(y, d_, [&](std::size_t first, std::size_t count) {
    FlipBlock(x, signs_.data(), scale, first, std::min(first + count, n_), count, y);
  });
  return out;
}

void RandomRotation::Inverse(float* y, double m, float* out, const HadamardFill& fill) const {
  Hadamard(y, d_, fill);
  SplitFor((n_ + kChunk - 1) / kChunk, [&](std::size_t c) {
    ScaleBlock(y, signs_.data(), m, c * kChunk, std::min(n_, (c + 1) * kChunk), out);
  });
}

}  // namespace gradquant
