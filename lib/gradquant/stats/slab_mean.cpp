#include "gradquant/stats/slab_mean.hpp"

#include <algorithm>
#include <vector>

#include "gradquant/core/parallel.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 4096;                  // coordinates summed at once (stack)
constexpr std::size_t kPiece = std::size_t{1} << 18;  // coordinates per parallel piece

// sum[i] = Σ_w slab_w[i] in double, slab order, from 0.0.
__attribute__((target_clones("avx2", "default"))) void SumBlock(const float* const* slabs,
                                                                std::size_t count, std::size_t len,
                                                                double* sum) {
  for (std::size_t i = 0; i < len; ++i) sum[i] = 0.0 + static_cast<double>(slabs[0][i]);
  for (std::size_t w = 1; w < count; ++w) {
    const float* p = slabs[w];
    for (std::size_t i = 0; i < len; ++i) sum[i] += static_cast<double>(p[i]);
  }
}

__attribute__((target_clones("avx2", "default"))) void Times(const double* sum, std::size_t len,
                                                             double factor, float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<float>(sum[i] * factor);
}

__attribute__((target_clones("avx2", "default"))) void DividedBy(const double* sum, std::size_t len,
                                                                 double divisor, float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<float>(sum[i] / divisor);
}

// Σ_w slabs[w] in double (slab order, from 0.0), then times `factor` or divided by `divisor`.
arma::fvec Reduce(const std::vector<arma::fvec>& slabs, bool divide, double value) {
  const std::size_t n = slabs.at(0).n_elem;
  arma::fvec out(n, arma::fill::none);
  float* dst = out.memptr();
  SplitFor((n + kPiece - 1) / kPiece, [&](std::size_t piece) {
    double sum[kBlock];
    std::vector<const float*> at(slabs.size());
    const std::size_t end = std::min(n, (piece + 1) * kPiece);
    for (std::size_t b = piece * kPiece; b < end; b += kBlock) {
      const std::size_t len = std::min(kBlock, end - b);
      for (std::size_t w = 0; w < slabs.size(); ++w) at[w] = slabs[w].memptr() + b;
      SumBlock(at.data(), at.size(), len, sum);
      (divide ? DividedBy : Times)(sum, len, value, dst + b);
    }
  });
  return out;
}

}  // namespace

arma::fvec MeanOf(const std::vector<arma::fvec>& slabs) {
  return Reduce(slabs, false, 1.0 / static_cast<double>(slabs.size()));
}

arma::fvec MeanByDivision(const std::vector<arma::fvec>& slabs) {
  return Reduce(slabs, true, static_cast<double>(slabs.size()));
}

}  // namespace gradquant
