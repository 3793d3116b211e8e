#pragma once
/**
 * @file scaled_sign.hpp
 * `scaledsign`: the sign vector scaled by the mean absolute value.
 *
 * S. P. Karimireddy, Q. Rebjock, S. U. Stich, M. Jaggi, "Error Feedback Fixes SignSGD and other
 * Gradient Compression Schemes", ICML 2019 (arXiv:1901.09847); docs/quantizers.md#scaledsign.
 * (EF-SignSGD is this encoder under the run's `--ef classic`, pipeline/error_feedback.hpp.)
 *
 * \f$C(v) = c\,\mathrm{sign}(v)\f$ with \f$c = \|v\|_1/D\f$ rounded to the nearest float32 and
 * sign(0) = +1. Deterministic and biased: a δ-contraction with
 * \f$\|C(v) − v\|^2 = \|v\|^2 − \|v\|_1^2/D\f$ for the real-valued c. ExpectedError() returns
 * the exact error for the transmitted float32 c, \f$\sum_i (c\,\mathrm{sign}(v_i) − v_i)^2\f$.
 *
 * Bit layout: c as float32 (32 bits), then D bits in flat index order, 1 = negative
 * (v_i < 0). Total D + 32. Server: the mean of the decoded vectors (float32 downlink).
 */
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Scaled sign compressor, (‖v‖₁/D)·sign(v). */
class ScaledSignQuantizer : public IndependentQuantizer {
 public:
  explicit ScaledSignQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  std::string spec_;
};

/** The transmitted scale of @p g: float32(‖g‖₁/D), 0 for an empty slab. */
float ScaledSignScale(const arma::fvec& g);

}  // namespace gradquant
