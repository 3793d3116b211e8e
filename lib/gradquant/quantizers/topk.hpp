#pragma once
/**
 * @file topk.hpp
 * `topk`: Top-K sparsification. The memory of Stich et al. is not part of the encoder: it is
 * the run's `--ef classic` (pipeline/error_feedback.hpp, docs/quantizers.md#error-feedback).
 *
 * S. U. Stich, J.-B. Cordonnier, M. Jaggi, "Sparsified SGD with Memory", NeurIPS 2018
 * (arXiv:1809.07599); A. F. Aji, K. Heafield, "Sparse Communication for Distributed Gradient
 * Descent", EMNLP 2017; docs/quantizers.md#topk.
 *
 * S = the K = ceil(κ·n) (or `k`) nonzero coordinates of largest |g_i|, ties by lower index
 * (fewer when g has fewer than K nonzeros); \f$C(g) = g_S\f$. Biased and deterministic, with the
 * exact error \f$\|C(g) − g\|^2 = \|g\|^2 − \sum_{i∈S} g_i^2 \le (1 − K/n)\|g\|^2\f$.
 *
 * Bit layout of a worker's message:
 * 1. the index set S in the exact code of coding/index_coder.hpp: Elias-gamma(|S| + 1), then
 *    the |S| gaps (first index + 1, then differences) as Elias-gamma (`index=gamma`) or as
 *    Golomb–Rice with b = floor(log2(floor(n/|S|))) (`index=rice`);
 * 2. the |S| values g_i as float32, in increasing index order.
 * Total: γ(|S|+1) + Σ code(gap_j) + 32|S|. Reported beside (stats, per slab): bits_index (the
 * count and gaps actually sent), bits_ideal_index = log2 C(n, |S|), bits_naive_index =
 * |S|·ceil(log2 n).
 *
 * Server: the aggregate is the mean of the sparse reconstructions; its downlink is the same
 * code applied to the union support U = ∪_w S_w: γ(|U|+1) + gaps + 32|U| bits (stat
 * union_frac = |U|/n).
 */
#include <cstdint>

#include "gradquant/coding/index_coder.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/sparsity.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Top-K sparsifier with an exact index code. */
class TopKQuantizer : public IndependentQuantizer {
 public:
  explicit TopKQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  /** Adds the sparse downlink of the union support. */
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  /** Exact: ||g||^2 − Σ_S g_i^2 (deterministic); bound (1 − K/n)||g||^2. */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  /** Decode, also handing back the decoded index set (sorted) in @p selected. */
  arma::fvec DecodeIndexed(const Message& message, const SlabContext& ctx,
                           std::vector<std::size_t>* selected) const;

  std::string spec_;
  Sparsity sparsity_;
  IndexCode code_;
};

}  // namespace gradquant
