#pragma once
/**
 * @file sparsity.hpp
 * The sparsity parameters shared by `topk` and `randk`: an absolute count `k`, or a fraction
 * `kappa` of each tensor's size (docs/quantizers.md#topk, docs/quantizers.md#randk).
 */
#include <cstdint>

#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** How many coordinates a sparsifier keeps per slab. */
class Sparsity {
 public:
  /**
   * Reads `k` (0 = use kappa) and `kappa` (in (0, 1]: `kappa=0` is a SpecError for both
   * methods) from @p params.
   */
  explicit Sparsity(Params& params);

  /**
   * K for a slab of @p n values: min(k, n) if k > 0, else min(n, max(1, ceil(kappa·n))), computed
   * as ceil(kappa·n − 1e-9) so that products like 0.07·100 = 7.000000000000001 give 7, not 8.
   */
  std::uint64_t Count(std::uint64_t n) const;

 private:
  std::uint64_t k_;
  double kappa_;
};

}  // namespace gradquant
