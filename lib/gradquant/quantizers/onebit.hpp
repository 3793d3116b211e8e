#pragma once
/**
 * @file onebit.hpp
 * `onebit`: 1-bit SGD's quantizer, threshold 0 with two reconstruction values per group.
 *
 * F. Seide, H. Fu, J. Droppo, G. Li, D. Yu, "1-Bit Stochastic Gradient Descent and its
 * Application to Data-Parallel Distributed Training of Speech DNNs", Interspeech 2014;
 * docs/quantizers.md#onebit. The paper's error feedback is the run's `--ef classic`
 * (pipeline/error_feedback.hpp), not part of the encoder.
 *
 * The slab is viewed as a (shape[0], n/shape[0]) matrix in row-major order; a group is one
 * column (`group=column`, the paper's choice) or one row (`group=row`, as in the NDQSG authors'
 * reimplementation); a 1-D tensor is one group. bit_i = [x_i > 0]; each group sends
 * \f$\mu_+ = S_+/n_+\f$ (mean of its positive entries) and \f$\mu_- = S_-/n_-\f$ (mean of its
 * non-positive entries), each rounded to the nearest float32, 0.0 for an empty side. Decoding
 * gives μ₊ or μ₋ by the bit. Deterministic and biased, but the group sum is preserved (up to
 * the float32 rounding of the means); the exact error of a group is
 * \f$\sum x^2 − S_+^2/n_+ − S_-^2/n_-\f$ for exact means. ExpectedError() returns the error of
 * the transmitted float32 means, \f$\sum_i (\hat x_i − x_i)^2\f$.
 *
 * Bit layout: for each group in order (column 0, 1, ... or row 0, 1, ...), μ₊ then μ₋ as
 * float32 (64 bits per group); then D bits in flat index order, 1 = positive. Total
 * D + 64·#groups. The decoder also checks μ₊ > 0 exactly when the group has a positive
 * entry (else 0), and μ₋ <= 0 (0 for an empty side). Server: the mean (float32 downlink).
 */
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** 1-bit quantization with per-column (or per-row) means of the two sign groups. */
class OneBitQuantizer : public IndependentQuantizer {
 public:
  explicit OneBitQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  std::string spec_;
  bool byRow_;
};

}  // namespace gradquant
