#pragma once
/**
 * @file terngrad.hpp
 * `terngrad`: stochastic ternarization with a max-norm scale.
 *
 * W. Wen, C. Xu, F. Yan, C. Wu, Y. Wang, Y. Chen, H. Li, "TernGrad: Ternary Gradients to
 * Reduce Communication in Distributed Deep Learning", NeurIPS 2017 (arXiv:1705.07878);
 * docs/quantizers.md#terngrad.
 *
 * Per bucket (bucket = 0: the whole slab) with scale s = float32(max_i |g_i|) rounded up so
 * that |g_i|/s <= 1: b_i = [U_i < |g_i|/s] with U_i = Rng(ctx.Key(), kRounding).Uniform(i),
 * i the flat index in the slab, and \f$\tilde g_i = s\,\mathrm{sign}(g_i)\,b_i\f$. A zero
 * coordinate is always sent as 0. Unbiased, with the exact variance
 * \f$E\|\tilde g − g\|^2 = s\|g\|_1 − \|g\|_2^2\f$ (computed with the transmitted s) and the
 * bound \f$(\sqrt{b} − 1)\|g\|^2\f$.
 *
 * Options:
 * - `clip=c` (> 0): before ternarizing, g_i ← clamp(g_i, −cσ, cσ) with σ the population
 *   standard deviation (about the mean) of the worker's whole slab, as in the authors' code
 *   (`clip_gradients_by_stddev`; the paper uses c = 2.5). Clipping is a bias: with g_c the
 *   clipped slab, E g̃ = g_c and the exact error is \f$s\|g_c\|_1 − \|g_c\|^2 + \|g − g_c\|^2\f$
 *   (the variance about g_c plus the squared clipping error, the cross term vanishing). A
 *   constant slab has σ = 0 and is clipped to 0 entirely, as in the authors' code.
 * - `scale=shared`: all workers of a group use, per bucket, the largest of their scales (one
 *   float max-reduction per bucket before encoding, done in EncodeGroup). Each message still
 *   carries the scale, so it decodes on its own; the server checks that the scales agree. The
 *   variance is then s_shared‖g‖₁ − ‖g‖², which depends on the other workers, so
 *   ExpectedError() has no value and Diagnose() reports `nmse_theory_shared` instead.
 * - `packing`: 2 bits per trit, or 5 trits per byte (see coding/trits.hpp).
 *
 * Bit layout, per bucket in order: s as float32 (32 bits), then the bucket's trits
 * sign(g_i)·b_i packed as `packing` says: 32 + 2b bits (2bit) or 32 + 8⌈b/5⌉ (base3). s = 0
 * marks an all-zero bucket; its trits must all be 0.
 *
 * Downlink: with a shared scale the server sends, per bucket, s and the integer sums
 * Σ_n t_{n,i} ∈ {−N..N} in ⌈log2(2N+1)⌉ bits each (signSGD's Table 1 cost of a sum of N
 * ternary values). With own scales the sums of differently scaled trits are not integers; the
 * downlink is then the relay of the N uplink messages (an all-gather), counted exactly.
 */
#include <cstdint>
#include <vector>

#include "gradquant/coding/trits.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** TernGrad with optional bucketing, c·σ clipping, shared scales and base-3 packing. */
class TernGradQuantizer : public IndependentQuantizer {
 public:
  explicit TernGradQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  std::vector<Message> EncodeGroup(const std::vector<arma::fvec>& slabs, const SlabContext& ctx,
                                   SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  /** scale=shared needs every worker's maxima before anyone encodes. */
  bool NeedsRoundTrip() const override { return shared_; }
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                const SlabContext& ctx, SlabStats* stats) const override;

 private:
  /**
   * The clipping threshold c·σ (infinity when clip = 0): g_c = ±threshold where |g| exceeds
   * it, else g. Counts clipped coordinates in @p clipped.
   */
  double ClipThreshold(const arma::fvec& g, std::size_t* clipped) const;
  /** Each bucket's own scale: max |g_c| rounded up to float32. */
  std::vector<float> OwnScales(const arma::fvec& g, double threshold) const;
  /** Per bucket, the largest own scale of the workers. */
  std::vector<float> SharedScales(const std::vector<arma::fvec>& slabs) const;
  Message EncodeWith(const arma::fvec& g, double threshold, const std::vector<float>& scales,
                     std::size_t clipped, const SlabContext& ctx, SlabStats* stats) const;
  /** Decodes one message and returns its bucket scales in @p scales. */
  arma::fvec DecodeScaled(const Message& message, const SlabContext& ctx,
                          std::vector<float>* scales) const;
  /** The exact E||g~ − g||^2 for the given (transmitted) scales. */
  double ExactError(const arma::fvec& g, const std::vector<float>& scales) const;

  std::string spec_;
  std::size_t bucket_;
  double clip_;
  bool shared_;
  TritPacking packing_;
};

}  // namespace gradquant
