#pragma once
/**
 * @file natural.hpp
 * `natural`: natural compression, stochastic rounding to a neighbouring power of two.
 *
 * S. Horváth, C.-Y. Ho, L. Horváth, A. N. Sahu, M. Canini, P. Richtárik, "Natural Compression
 * for Distributed Deep Learning", 2019 (arXiv:1905.10988); docs/quantizers.md#natural.
 *
 * For t ≠ 0 with IEEE binary exponent a (read from the float32 bits, never floor(log2|t|)):
 * \f$C(t) = \mathrm{sign}(t)\,2^{a+1}\f$ with probability \f$|t|/2^a − 1\f$ (the mantissa
 * fraction m/2^23, exactly), else \f$\mathrm{sign}(t)\,2^a\f$; C(0) = 0. The draw is
 * [U_i < m/2^23] with U_i = Rng(ctx.Key(), kRounding).Uniform(i). Unbiased, with the exact
 * variance \f$\sum_i (2^{a+1} − |t_i|)(|t_i| − 2^a)\f$ and the bound ‖g‖²/8 (Theorem 3; the
 * ratio 1/8 is reached at |t| = (4/3)·2^a).
 *
 * Edge cases, chosen so that the wire format stays 9 bits:
 * - **Subnormals** (|t| < 2^−126) are rounded stochastically between 0 and 2^−126 with
 *   P(2^−126) = |t|/2^−126 (again the mantissa fraction): unbiased, variance
 *   (2^−126 − |t|)|t| ≤ 2^−254, which the bound adds per subnormal. Stat `subnormal` counts them.
 * - **Overflow**: for |t| ≥ 2^127 rounding up would give 2^128, which float32 cannot hold; it is
 *   flushed to 2^127 (so such t always decode to ±2^127, biased by 2^127 − |t|, and the exact
 *   error and the bound use (|t| − 2^127)²). ±inf is sent as ±2^127 and NaN as 0. Stat
 *   `flushed` counts the up-roundings flushed, the infinities and the NaNs.
 *
 * Bit layout: per coordinate in flat index order, 9 bits: the sign (1 = negative, the IEEE
 * sign bit), then the 8-bit biased exponent field E of the result, value ±2^(E−127); E = 0 is
 * zero, E = 255 is invalid. Total 9D bits, no scale. Server: the mean (float32 downlink).
 */
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Natural compression of float32 gradients (9 bits per coordinate). */
class NaturalQuantizer : public IndependentQuantizer {
 public:
  explicit NaturalQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  std::string spec_;
};

/**
 * The 9-bit code (sign << 8 | exponent field) of C_nat(t) for the uniform @p u ∈ [0, 1).
 * @param flushed set to true if the result was flushed (overflow, inf, NaN), else untouched.
 */
std::uint32_t NaturalCode(float t, double u, bool* flushed);

/** The value of a 9-bit code (field 255 is the caller's to reject). */
float NaturalValue(std::uint32_t code);

}  // namespace gradquant
