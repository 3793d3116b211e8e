#include "gradquant/quantizers/sparsity.hpp"

#include <algorithm>
#include <cmath>

namespace gradquant {

namespace {

// kappa = 0 would keep nothing (Top-K) or divide by K = 0 (Random-K's n/K): both methods need a
// positive fraction, and both keep at least one coordinate of a non-empty slab.
constexpr double kMinKappa = 1e-9;

}  // namespace

Sparsity::Sparsity(Params& params) {
  k_ = static_cast<std::uint64_t>(
      params.Int("k", 0, 0, std::int64_t{1} << 40, "coordinates kept per tensor (0 = use kappa)"));
  kappa_ = params.Real("kappa", 0.01, kMinKappa, 1.0,
                       "fraction kept per tensor, K = max(1, ceil(kappa*n)), when k = 0");
}

std::uint64_t Sparsity::Count(std::uint64_t n) const {
  if (k_ > 0) return std::min(k_, n);
  const double k = std::ceil(kappa_ * static_cast<double>(n) - 1e-9);
  return std::min(n, std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::max(0.0, k))));
}

}  // namespace gradquant
