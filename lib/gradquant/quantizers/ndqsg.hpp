#pragma once
/**
 * @file ndqsg.hpp
 * `ndqsg`: nested dithered quantized stochastic gradients, decoded with side information.
 *
 * A. Abdi, F. Fekri, "Nested Dithered Quantization for Communication Reduction in Distributed
 * Training", arXiv:1904.01197, 2019 (and the authors' code, DistributedTraining-CEO/NDQSG);
 * docs/quantizers.md#ndqsg.
 *
 * **Workers.** Worker w of a group of W is a *DQSG worker* if w < ratio·W (the authors' rule,
 * i.e. the first ceil(ratio·W) workers; with ratio > 0 a lone worker is always one), otherwise a
 * *nested worker*. ratio = 0 makes every worker nested, worker 0 then being decoded with y = 0
 * as in the authors' code (an experiment, not a useful setting). A DQSG worker sends exactly the
 * `dqsg:s=..,bucket=..` message (byte for byte). A nested worker computes the same fine indices k_i
 * = floor(g_i/Δ + u_i + 1/2) with the same step Δ and dither, and sends only m_i = k_i mod ρ ∈
 * {0..ρ−1}.
 *
 * **Server.** It decodes the workers in index order. Nested worker w is decoded with side
 * information y: `side=running` (default, as the authors' code) the mean of the reconstructions
 * of workers 0..w−1; `side=dqsg` the mean of the DQSG workers' reconstructions. Before anything
 * is decoded, y = 0 (docs/quantizers.md#degenerate-inputs). The decode is done in the integer
 * domain:
 * \f[ r_i = Δ(m_i − u_i) − y_i,\quad q_i = \lfloor r_i/(ρΔ) + 1/2 \rfloor,\quad
 *     \hat k_i = m_i − ρ q_i,\quad \hat g_i = Δ(\hat k_i − u_i), \f]
 * so that whenever \f$\hat k_i = k_i\f$ the output is bit-identical to DQSG's. The aggregate is
 * the mean of the reconstructions; the downlink is that mean as float32 (32 bits/coordinate).
 *
 * **Error.** With |g_i − y_i + Δε_i| < ρΔ/2 (ε_i the DQSG rounding error) the coordinate does
 * not overload and equals the DQSG output. ExpectedError reports the DQSG value
 * Σ_buckets bΔ²/12 as `exact` for the DQSG workers and as a `lowerBound` for the nested ones:
 * it is their error when nothing overloads, and an overloaded coordinate errs by at least
 * (ρ − 1/2)Δ > Δ/2, more than any coordinate that does not. A measured error above it is the
 * overload. For a fixed offset d = |g_i − y_i|/Δ the overload probability is
 * clamp(d − (ρ−1)/2, 0, 1); Diagnose() reports the measured `overload_frac` and this
 * prediction `overload_pred`, both over the nested workers' coordinates.
 *
 * **Stats.** Encode: `bits_entropy` (order-0 entropy of the symbols + 32 per bucket),
 * `bits_ideal` (b·log2 ρ + 32 per bucket for nested workers, b·log2(2s+1) + 32 for DQSG ones)
 * and `nested` (1 or 0), which EncodeGroup averages over the group. Diagnose: `overload_frac`,
 * `overload_pred`, `offset_mean` (mean |g_i − y_i|/Δ) and `overload_err_share` (the share of
 * the group's squared error on overloaded coordinates; 1 − it gives the no-overload error).
 *
 * **Bit layout of a nested worker**, per bucket in order: Δ as float32 (32 bits), then the b
 * residues m_i:
 * - `packing=fixed`: each in ceil(log2 ρ) bits;
 * - `packing=base`: in chunks of c residues written as one base-ρ number
 *   v = Σ_j m_{i+j} ρ^{c−1−j} (first residue most significant) in B whole bytes (8B bits), where
 *   (B, c) minimises 8B/c over B = 1..8 with c the largest count such that ρ^c ≤ 2^{8B} (ties:
 *   the smallest B). The last chunk of r < c residues takes the fewest whole bytes holding
 *   ρ^r values. ρ = 3 gives 5 residues per byte, 8·ceil(b/5) bits.
 * Δ = 0 marks an all-zero bucket (its residues are all 0) decoded as exact zeros.
 * DQSG workers use dqsg.hpp's layout.
 */
#include <cstdint>
#include <memory>

#include "gradquant/quantizers/dqsg.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/**
 * The integer-domain nested decode (docs/quantizers.md#ndqsg) of one bucket: for i < n, with
 * u_i = dither.Uniform(first + i) − 1/2, writes k[i] = m[i] − ρ·floor((step(m[i] − u_i) − y[i])
 * / (ρ·step) + 1/2). The coarse index q is clamped so that k stays an int32 (only reached when
 * |y_i| exceeds about 2^31·step, a certain overload). Pass k to DitheredValues for the output.
 * @param m residues in {0..ρ−1}; @param y the side information; step > 0.
 */
void NestedIndices(const std::uint32_t* m, std::size_t n, float step, std::int32_t rho,
                   const double* y, const Rng& dither, std::uint64_t first, std::int32_t* k);

/** Chunking of `packing=base`: @p symbols residues per chunk of @p bytes bytes. */
struct BaseChunk {
  int symbols = 0;
  int bytes = 0;
};

/** The (c, B) chunk of `packing=base` for nesting ratio @p rho (see the file comment). */
BaseChunk BaseChunkFor(std::uint32_t rho);

/** Nested DQSG: DQSG workers seed the side information, nested workers send k mod ρ. */
class NdqsgQuantizer : public Quantizer {
 public:
  /** Reads s, rho, ratio, side, packing and bucket. @throws SpecError */
  explicit NdqsgQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  /** Worker ctx.worker of ctx.workers: the DQSG message or the nested residues. */
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  /**
   * Decodes the workers in index order, each nested one with the side information of those
   * before it. @throws FormatError on a corrupt message; std::invalid_argument if the number of
   * messages is not ctx.workers.
   */
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  /** DQSG's Σ bΔ²/12: exact for DQSG workers, a lower bound for nested ones (file comment). */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  /** Adds overload_frac, overload_pred, offset_mean and overload_err_share. */
  void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                const SlabContext& ctx, SlabStats* stats) const override;

  /** True if worker @p w of a group of @p workers sends plain DQSG. */
  bool IsDqsgWorker(std::uint32_t w, std::uint32_t workers) const;

 private:
  // Decodes one nested worker's message with side information y_i = ySum_i / yCount (0 when
  // yCount = 0): the mean of the reconstructions taken in so far.
  arma::fvec DecodeNested(const Message& message, const double* ySum, double yCount,
                          const SlabContext& ctx) const;

  std::string spec_;
  std::int32_t s_;
  std::int32_t rho_;
  double ratio_;
  bool sideRunning_;
  bool base_;
  std::size_t bucket_;
  std::unique_ptr<DqsgQuantizer> dqsg_;  // the DQSG workers' quantizer (same s and bucket)
};

}  // namespace gradquant
