#pragma once
/**
 * @file s3gdmv.hpp
 * `s3gdmv`: sparse signSGD with majority vote.
 *
 * C. Park, N. Lee, "S3GD-MV: Sparse-SignSGD with Majority Vote for Communication-Efficient
 * Distributed Learning", ISIT 2023 (arXiv:2302.07475); mechanics from the first author's code
 * (chanho26/SignSGD_Codec); docs/quantizers.md#s3gdmv.
 *
 * Worker n chooses a set S_n of at most K coordinates of its slab g_n (D = n coordinates):
 * - select=top: the min(K, nnz(g_n)) largest |g_i|, ties by the lower index (top_k_select.hpp);
 * - select=rand: K = min(K, D) indices from the shared seed by the partial Fisher–Yates
 *   shuffle (Purpose::kSelection, keyed per worker), so the decoder regenerates S_n.
 * It sends sign(g_i) for i ∈ S_n; its decoded message is the ternary vector t_n with
 * t_{n,i} = sign(g_i) on S_n and 0 elsewhere. The server outputs the majority vote
 * \f$o = \mathrm{sgn0}(\sum_n t_n)\f$ ∈ {−1, 0, +1}^D (majority_vote.hpp): ties and unvoted
 * coordinates are 0. No error memory (β = 0): the author code's accumulator a ← βa + g carries
 * state across training steps, which belongs to a training loop, not to a recorded-gradient
 * compressor.
 *
 * K: `k` if k > 0, else ⌈kappa·D⌉ (forgiving binary rounding: 0.1·30 gives 3), and kappa=auto
 * (the default) means K = ⌈D/N⌉ with N the number of workers, our heuristic "K ≈ D/N, the
 * smallest K that gives every coordinate one expected vote"; N is shared out of band.
 *
 * Worker bit layout (MSB-first, bit_writer.hpp):
 * - select=top: the index set of S_n (index_coder.hpp, IndexCode::kGamma: γ(|S|+1), then γ of the
 * gaps, first gap the 1-based position), then |S| sign bits in index order (1 = negative). Total
 *   \f$γ(|S|+1) + \sum_j γ(\mathrm{gap}_j) + |S|\f$.
 * - select=rand: K sign bits in increasing index order (1 = negative, so an exact zero votes +1,
 *   docs/quantizers.md#signs); no index bits.
 * Reported beside the exact stream (stats, bits of one worker message, mean over workers):
 * `bits_naive` = |S|(1 + ⌈log2 D⌉), `bits_enum` = |S| + ⌈log2 C(D,|S|)⌉ (enumerative ideal),
 * `bits_bitmap` = D + |S|, all as if S were sent explicitly (also for rand); `selected`
 * = |S|.
 *
 * Downlink (counted, a realizable stream): o in the select=top worker layout on its support,
 * γ(|supp|+1) + Σγ(gap) + |supp| bits; the enumerative ideal |supp| + ⌈log2 C(D,|supp|)⌉ is
 * the stat `downlink_bits_enum`.
 *
 * Server stats (from decoded data): `vote_coverage` = |∪_n S_n|/D, the fraction of coordinates
 * with at least one vote; `mean_votes` = Σ_n|S_n|/D, the expected votes per coordinate;
 * `tie_frac` = voted coordinates whose votes cancel, over D; `support_frac` = |supp(o)|/D.
 * Truth-based (Diagnose): `sign_agree`, the |ḡ_i|-weighted fraction of supp(o) where o_i has
 * the sign of the true mean ḡ_i, and `sign_agree_raw`, unweighted (1 on an empty support).
 *
 * Error: the output is a direction, so reports use the best scalar fit c* = ⟨o,g⟩/‖o‖²
 * (SignOutput); per worker that error is ‖g‖² − (Σ_{i∈S}|g_i|)²/|S| (exact for top; for rand
 * its expectation over the uniform K-subset).
 */
#include <cstdint>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** The select=top / downlink stream of a ternary vector @p t (entries in {−1, 0, +1}). */
Message EncodeTernary(const arma::fvec& t);

/** Reads a stream of EncodeTernary for @p n coordinates. @throws FormatError */
arma::fvec DecodeTernary(const Message& message, std::uint64_t n, const std::string& what);

/** ⌈log2 C(n, k)⌉ via lgamma, exact at the integer points where the logarithm is whole. */
std::uint64_t CeilLog2Binomial(std::uint64_t n, std::uint64_t k);

/** Sparse signs with a majority vote at the server. */
class S3gdmvQuantizer : public Quantizer {
 public:
  explicit S3gdmvQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                const SlabContext& ctx, SlabStats* stats) const override;
  bool SignOutput() const override { return true; }

  /** K for a slab of @p n coordinates among @p workers workers (before min with nnz). */
  std::uint64_t Budget(std::uint64_t n, std::uint32_t workers) const;

 private:
  /** The chosen set of worker ctx.worker for slab @p g. */
  std::vector<std::size_t> Select(const arma::fvec& g, const SlabContext& ctx) const;

  std::string spec_;
  std::uint64_t k_;
  double kappa_;  ///< NaN = auto
  bool random_;
};

}  // namespace gradquant
