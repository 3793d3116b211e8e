#pragma once
/**
 * @file half_cast.hpp
 * `fp16` and `bf16`: every coordinate cast to a 16-bit float, the baseline reviewers ask for
 * (mixed-precision all-reduce sends gradients this way); docs/quantizers.md#fp16-and-bf16.
 *
 * The casts are float_format.hpp's. A format with E exponent bits and M mantissa bits (fp16:
 * IEEE binary16, E = 5, M = 10; bf16: bfloat16, E = 8, M = 7) has bias b = 2^(E−1) − 1, smallest
 * normal exponent e_min = 1 − b, largest finite value F = (2 − 2^−M)·2^b (fp16: 65504; bf16:
 * about 3.39·10^38) and gradual underflow below 2^e_min. For |t| ≤ F its two neighbours on the grid
 * are lo = ⌊|t|/u⌋·u and hi = lo + u, with spacing u = 2^(max(e, e_min) − M), e = ⌊log2 |t|⌋.
 *
 * - `rounding=nearest` (default): round to nearest, ties to the even code (IEEE), but values
 *   past F saturate to ±F instead of becoming ±inf (a cast that yields inf would poison the
 *   aggregate). Deterministic: the exact error is Σ (C(t) − t)².
 * - `rounding=stochastic`: hi with probability (|t| − lo)/u, drawn as [U_i < (|t| − lo)/u],
 *   U_i = Rng(ctx.Key(), kRounding).Uniform(i) (word i · 2^−32): unbiased for |t| ≤ F, exact
 * variance Σ (hi − |t|)(|t| − lo). Past F the value saturates to ±F (a bias of |t| − F).
 *
 * Stats: `overflow` counts the values that saturated (|t| > F), `underflow` the nonzero values
 * sent as 0, and `underflow_energy` their Σ t² (the gradient mass the cast loses; fp16 flushes
 * small gradients, bf16 keeps float32's range).
 *
 * Bit layout: per coordinate in flat index order, 16 bits: the sign (1 = negative), then the E
 * exponent bits, then the M mantissa bits, the format's own encoding; an exponent field of all
 * ones (inf or NaN) is never sent and is rejected. Total 16·D bits, no header. Server: the mean
 * (float32 downlink).
 */
#include "gradquant/quantizers/float_format.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Casts every coordinate to fp16 or bf16 (the spec's name chooses). */
class HalfCastQuantizer : public IndependentQuantizer {
 public:
  explicit HalfCastQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  FloatFormat format_;
  bool stochastic_;
  std::string spec_;
};

}  // namespace gradquant
