#pragma once
/**
 * @file dqsg.hpp
 * `dqsg`: dithered quantized stochastic gradients (subtractive dithering).
 *
 * A. Abdi, F. Fekri, "Nested Dithered Quantization for Communication Reduction in Distributed
 * Training", arXiv:1904.01197, 2019; docs/quantizers.md#dqsg.
 *
 * Per bucket with M = max|g_i|: step Δ = float32(M/s) (nudged up one ulp if Δ·s < M),
 * u_i = U_i − 1/2 from the shared dither stream, k_i = floor(g_i/Δ + u_i + 1/2) ∈ {−s..s},
 * decoded as \f$\hat g_i = Δ(k_i − u_i)\f$. The error is uniform on (−Δ/2, Δ/2] and independent
 * of g, so \f$E\|\hat g − g\|^2 = \sum_j b_j Δ_j^2/12\f$ exactly (unbiased).
 *
 * Bit layout, per bucket in order: Δ as float32 (32 bits), then b symbols k_i + s, each in
 * ceil(log2(2s+1)) bits. Total per bucket: 32 + b·ceil(log2(2s+1)). Δ = 0 means an all-zero
 * bucket (its symbols are all s).
 */
#include <cstdint>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/**
 * The fine dithered indices of one bucket: k[i] = clamp(floor(g[i]/step + u + 1/2), −s, s) with
 * u = dither.Uniform(first + i) − 1/2. step must be StepForMax(max|g|, s) > 0.
 */
void DitheredIndices(const float* g, std::size_t n, float step, std::int32_t s, const Rng& dither,
                     std::uint64_t first, std::int32_t* k);

/** Reconstruction out[i] = step·(k[i] − u_i) for the same dither positions. */
void DitheredValues(const std::int32_t* k, std::size_t n, float step, const Rng& dither,
                    std::uint64_t first, float* out);

/** Subtractive dithered uniform quantizer. */
class DqsgQuantizer : public IndependentQuantizer {
 public:
  explicit DqsgQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  std::string spec_;
  std::int32_t s_;
  std::size_t bucket_;
};

}  // namespace gradquant
