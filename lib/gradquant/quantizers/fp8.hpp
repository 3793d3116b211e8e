#pragma once
/**
 * @file fp8.hpp
 * `fp8`: every coordinate as an 8-bit float with a float32 scale per bucket, the format of FP8
 * training and all-reduce; docs/quantizers.md#fp8.
 *
 * OCP 8-bit Floating Point Specification (OFP8), revision 1.0, 2023; P. Micikevicius et al.,
 * "FP8 Formats for Deep Learning", arXiv:2209.05433, 2022. The casts are float_format.hpp's:
 * - `format=e4m3` (default): E = 4, M = 3, bias 7, no infinities, NaN = S.1111.111, largest
 *   finite F = 448 (S.1111.110), smallest subnormal 2^−9;
 * - `format=e5m2`: E = 5, M = 2, bias 15, IEEE-like (S.11111.00 = inf, S.11111.xx NaN),
 *   F = 57344 (S.11110.11), smallest subnormal 2^−16.
 *
 * Per bucket B (runs of `bucket` coordinates, 0 = the whole slab) with m = max_{i∈B} |g_i|:
 * \f[ σ = \min\{s ∈ \mathrm{float32} : s·F ≥ m\},\quad t_i = g_i/σ,\quad
 *     \hat g_i = \mathrm{float32}(σ·v(C(t_i))) \f]
 * so the bucket's largest value maps to F and |t_i| ≤ F (the cast never saturates). t_i is the
 * division in double: the quotient of two float32 values is either exactly a midpoint of the
 * FP8 grid or at least 2^−31 of it away (relatively), far more than the division's 2^−53, so the
 * nearest code is the correctly rounded code of the exact g_i/σ. C is:
 * - `rounding=nearest` (default): round to nearest, ties to the even code. Deterministic:
 *   ExpectedError is the exact error Σ (ĝ_i − g_i)², computed through the same kernels;
 * - `rounding=stochastic`: the upper neighbour hi_i iff U_i < (|t_i| − lo_i)/u_i, with
 *   U_i = word i of Rng(ctx.Key(), kRounding) · 2^−32: unbiased up to the float32 rounding of
 *   σ·v and the 2^−32 grid of U. ExpectedError is exact for that grid:
 *   Σ p_i (R(hi_i) − g_i)² + (1 − p_i)(R(lo_i) − g_i)², p_i = P(U < frac_i), R the decoded
 *   value (about σ²(hi_i − |t_i|)(|t_i| − lo_i) per coordinate).
 *
 * Stats: `underflow` counts the nonzero g_i sent as ±0 (nearest: |t_i| at most half the
 * smallest subnormal, 2^−10 for e4m3 and 2^−17 for e5m2, so |g_i| ≤ about m·2^−10/448 resp.
 * m·2^−17/57344), `underflow_energy` their Σ g_i².
 *
 * Bit layout, per bucket in order: σ as float32 (32 bits), then the bucket's codes, 8 bits each
 * in flat index order (sign, exponent, mantissa: the OCP encoding). Total 8·n + 32·⌈n/bucket⌉.
 * σ = 0 marks an all-zero bucket, whose codes are all 0. The decoder rejects a negative or
 * non-finite σ, a NaN or inf code, and a nonzero code under σ = 0. Server: the mean (float32
 * downlink).
 */
#include <cstddef>
#include <vector>

#include "gradquant/quantizers/float_format.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** OCP FP8 (E4M3 or E5M2) with a float32 scale per bucket. */
class Fp8Quantizer : public IndependentQuantizer {
 public:
  explicit Fp8Quantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  /** Exact: the nearest cast's error, or stochastic rounding's expectation (file comment). */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

  /** The transmitted scale of every bucket of @p g: σ·F ≥ max |g_i|, 0 for an all-zero bucket. */
  std::vector<float> Scales(const arma::fvec& g) const;

 private:
  FloatFormat format_;
  std::size_t bucket_;
  bool stochastic_;
  std::string spec_;
};

}  // namespace gradquant
