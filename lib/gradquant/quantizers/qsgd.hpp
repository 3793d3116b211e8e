#pragma once
/**
 * @file qsgd.hpp
 * `qsgd`: quantized SGD with stochastic rounding to s levels.
 *
 * D. Alistarh, D. Grubic, J. Li, R. Tomioka, M. Vojnovic, "QSGD: Communication-Efficient SGD
 * via Gradient Quantization and Encoding", NeurIPS 2017 (arXiv:1610.02132);
 * docs/quantizers.md#qsgd.
 *
 * Per bucket with scale σ = ||v||_2 (norm=l2) or max|v_i| (norm=max), sent as float32 rounded
 * up so that a_i = s|v_i|/σ <= s: level l_i = floor(a_i) + [U_i < a_i − floor(a_i)],
 * \f$Q(v_i) = σ\,\mathrm{sign}(v_i)\,l_i/s\f$. Unbiased, with the exact variance
 * \f$E\|Q(v) − v\|^2 = (σ^2/s^2)\sum_i τ_i(1 − τ_i)\f$, τ_i = a_i − floor(a_i), and for
 * norm=l2 Lemma 3.1's bound min(b/s², √b/s)·||v||².
 *
 * Bit layout, per bucket in order: σ as float32 (32 bits), then
 * - coding=elias (the paper's recursive Elias code): ω(nnz+1), then for each nonzero in index
 *   order ω(gap) (1-based position of the first nonzero, then position differences), one sign
 *   bit (1 = negative), ω(l_i);
 * - coding=fixed: b symbols s + sign(v_i)·l_i, each in ceil(log2(2s+1)) bits.
 */
#include <cstdint>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** QSGD with bucketing, l2 or max scaling, and Elias-omega or fixed-width coding. */
class QsgdQuantizer : public IndependentQuantizer {
 public:
  explicit QsgdQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  float BucketScale(const float* v, std::size_t n) const;

  std::string spec_;
  std::int32_t s_;
  std::size_t bucket_;
  bool l2_;
  bool elias_;
};

}  // namespace gradquant
