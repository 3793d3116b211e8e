#include "gradquant/quantizers/sparsity.hpp"

#include <algorithm>
#include <cmath>

namespace gradquant {

Sparsity::Sparsity(Params& params, double minKappa) {
  k_ = static_cast<std::uint64_t>(
      params.Int("k", 0, 0, std::int64_t{1} << 40, "coordinates kept per tensor (0 = use kappa)"));
  kappa_ = params.Real("kappa", 0.01, minKappa, 1.0,
                       "fraction kept per tensor, K = ceil(kappa*n), when k = 0");
}

std::uint64_t Sparsity::Count(std::uint64_t n) const {
  if (k_ > 0) return std::min(k_, n);
  const double k = std::ceil(kappa_ * static_cast<double>(n) - 1e-9);
  return std::min(n, static_cast<std::uint64_t>(std::max(0.0, k)));
}

}  // namespace gradquant
