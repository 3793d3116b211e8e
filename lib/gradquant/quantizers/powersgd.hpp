#pragma once
/**
 * @file powersgd.hpp
 * `powersgd`: rank-r PowerSGD, one power iteration from a random Q and no warm start (offline
 * use on recorded steps); the paper's error feedback is the run's `--ef classic`
 * (pipeline/error_feedback.hpp, docs/quantizers.md#error-feedback).
 *
 * T. Vogels, S. P. Karimireddy, M. Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression
 * for Distributed Optimization", NeurIPS 2019 (arXiv:1905.13727); docs/quantizers.md#powersgd.
 *
 * Each tensor is the matrix M ∈ R^{n×m}, n = shape[0], m = n_elem/n (row-major view);
 * r_eff = min(r, n, m). Tensors with fewer than two axes, and tensors where
 * r_eff·(n + m) >= n·m (compression would not pay), are sent as float32, exactly (error 0).
 * Otherwise, with Q (m×r_eff) i.i.d. N(0,1) from Rng({seed, step, worker 0, layer}, kInit)
 * (worker 0 so that every worker holds the same Q; Q[j][c] = Normal(j·r_eff + c)):
 * 1. worker w sends \f$P_w = M_w Q\f$ (rounded to float32);
 * 2. everyone forms \f$\bar P = \frac1N\sum_w P_w\f$ from the float32 values (double, worker
 *    order) and \f$\hat P\f$ = the Q factor of its Householder QR (householder_qr.hpp);
 * 3. worker w sends \f$Q_w = M_w^T \hat P\f$ (rounded to float32);
 * 4. the aggregate is \f$\hat P \bar Q^T\f$ with \f$\bar Q = \frac1N\sum_w Q_w\f$; worker w's
 *    reconstruction (for reports) is \f$\hat P Q_w^T ≈ \hat P\hat P^T M_w\f$.
 * All linear algebra is in double with fixed loop orders, so the decoder's P̂ is bit-identical
 * to the encoder's and the bytes do not depend on the BLAS. No Armadillo RNG is involved.
 *
 * Bit layout of worker w's message (one message holding both all-reduce rounds): P_w row-major
 * (n·r_eff float32), then Q_w row-major (m·r_eff float32): 32·r_eff·(n + m) bits. Dense
 * tensors: the n_elem values as float32. Downlink: the two means, 32·r_eff·(n + m) bits
 * (dense: 32·n_elem).
 *
 * Theory: a rank-r_eff output cannot beat the Eckart–Young error, so ExpectedError gives
 * `bound` = \f$\sum_{i>r} σ_i(M_w)^2\f$, a **lower** bound (theory_kind "bound" means a lower
 * bound here, unlike the upper bounds of the unbiased methods). Diagnose adds the stat
 * `eckart_young_nmse` = \f$\sum_{i>r} σ_i(\bar M)^2/\|\bar M\|_F^2\f$ for the true mean, the
 * floor under agg_nmse. The SVDs (values only) cost O(n·m·min(n, m)) per slab.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** The matrix view of a layer: n×m and the rank used (rank 0 = sent dense as float32). */
struct LowRankShape {
  std::size_t n = 0, m = 0, rank = 0;
};

/** n = shape[0], m = the rest, r_eff = min(r, n, m), or rank 0 when compression does not pay. */
LowRankShape PowerSgdShape(const LayerInfo& layer, std::size_t r);

/**
 * P̂: the Householder Q factor of the mean of the workers' float32 P matrices (each n×rank,
 * row-major), summed in worker order in double. The encoder and the decoder both call this.
 */
std::vector<double> PowerSgdBasis(const std::vector<std::vector<float>>& p, const LowRankShape& s);

/** Σ_{i>rank} σ_i^2 of the row-major n×m matrix @p g (via the SVD in double; NaN if it fails). */
double EckartYoungTail(const float* g, std::size_t n, std::size_t m, std::size_t rank);

/** PowerSGD with a fresh random Q per step and the aggregate of two all-reduce rounds. */
class PowerSgdQuantizer : public Quantizer {
 public:
  explicit PowerSgdQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  /** One worker alone: the group of one {g}. */
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  /** Both rounds for every worker: round 2 needs round 1's P̂. */
  std::vector<Message> EncodeGroup(const std::vector<arma::fvec>& slabs, const SlabContext& ctx,
                                   SlabStats* stats) const override;
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  /** Q_w needs P̂, the server's basis from every worker's P_w. */
  bool NeedsRoundTrip() const override { return true; }
  /** Exact 0 for dense tensors; else the lower bound Σ_{i>r} σ_i(M)^2. */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  /** Adds eckart_young_nmse for the true mean of the workers' slabs. */
  void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                const SlabContext& ctx, SlabStats* stats) const override;

 private:
  std::string spec_;
  std::size_t rank_;
};

}  // namespace gradquant
