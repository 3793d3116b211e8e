#pragma once
/**
 * @file randk.hpp
 * `randk`: Random-K sparsification with indices from the shared seed.
 *
 * J. Wangni, J. Wang, J. Liu, T. Zhang, "Gradient Sparsification for Communication-Efficient
 * Distributed Optimization", NeurIPS 2018 (arXiv:1710.09854); S. U. Stich et al., "Sparsified
 * SGD with Memory", NeurIPS 2018 (arXiv:1809.07599); docs/quantizers.md#randk.
 *
 * S = K = max(1, ceil(κ·n)) (or `k`) indices drawn uniformly without replacement by the partial
 * Fisher–Yates shuffle of docs/quantizers.md#shared-randomness (random/partial_shuffle.hpp) from
 * Rng(ctx.Key(), Purpose::kSelection). The key holds the worker index, so **different workers
 * pick different sets** (independent draws), and the server, knowing every worker's key,
 * regenerates each set. Nothing about S is sent.
 * - `scale=unbiased`: \f$C(g) = (n/K)\,g_S\f$, unbiased, exact
 *   \f$E\|C(g) − g\|^2 = (n/K − 1)\|g\|^2\f$ (ω = n/K − 1);
 * - `scale=none`: \f$C(g) = g_S\f$, biased, \f$E\|C(g) − g\|^2 = (1 − K/n)\|g\|^2\f$.
 * The expectation is over the selection; the theory is exact in expectation.
 *
 * Bit layout of a worker's message: the K values g_i (unscaled) as float32, in draw order
 * (the order PartialShuffle returns): 32K bits. The decoder multiplies by n/K itself.
 *
 * Server: the mean of the reconstructions. Its support is the union U of the workers' sets,
 * which every worker can regenerate from the seed, so the downlink is 32|U| bits (the values on
 * U in increasing index order) with no index bits (stat union_frac = |U|/n).
 */
#include <cstdint>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/sparsity.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Random-K sparsifier; the index set comes from the shared seed. */
class RandKQuantizer : public IndependentQuantizer {
 public:
  explicit RandKQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  /** Sets the downlink to the values on the union of the workers' sets. */
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  /** Exact in expectation: (n/K − 1)||g||^2 (unbiased) or (1 − K/n)||g||^2 (none). */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

  /** The K indices worker ctx.worker sends, in draw order. */
  std::vector<std::size_t> Indices(const SlabContext& ctx) const;

 private:
  std::uint64_t Count(std::uint64_t n) const;
  /** Decode with the worker's indices already drawn. */
  arma::fvec DecodeAt(const Message& message, const SlabContext& ctx,
                      const std::vector<std::size_t>& indices) const;

  std::string spec_;
  Sparsity sparsity_;
  bool unbiased_;
};

}  // namespace gradquant
