#include "gradquant/quantizers/gradiveq_basis.hpp"

#include <algorithm>
#include <vector>

namespace gradquant {
namespace {

constexpr double kEigenCutoff = 1e-12;  // round-off eigenvalues count as zero

// Calls f(i, j) for every row-major source index i of an (F, D, H, W) tensor, in order, with
// j = ((h·W + w)·D + d)·F + f its position in the sliced order (no division per element).
template <class F>
void ForEachConvPosition(const LayerInfo& layer, F&& f) {
  const std::uint64_t nf = layer.shape[0], nd = layer.shape[1], nh = layer.shape[2],
                      nw = layer.shape[3];
  std::uint64_t i = 0;
  for (std::uint64_t fi = 0; fi < nf; ++fi) {
    for (std::uint64_t di = 0; di < nd; ++di) {
      for (std::uint64_t hi = 0; hi < nh; ++hi) {
        for (std::uint64_t wi = 0; wi < nw; ++wi) f(i++, ((hi * nw + wi) * nd + di) * nf + fi);
      }
    }
  }
}

}  // namespace

SliceLayout PlanSlices(const LayerInfo& layer, std::uint64_t k, bool allLayers) {
  SliceLayout out;
  out.conv = layer.shape.size() == 4;
  if (k == 0) {
    if (out.conv) {
      k = layer.shape[0] * layer.shape[1];
    } else if (layer.shape.size() >= 2) {
      k = layer.shape.back();
    } else {
      k = layer.n;
    }
  }
  out.k = std::max<std::uint64_t>(k, 1);
  out.slices = layer.n == 0 ? 0 : (layer.n + out.k - 1) / out.k;
  out.compress = (out.conv || allLayers) && out.k >= 2 && out.slices >= 2;
  return out;
}

arma::mat ToSlices(const float* g, const LayerInfo& layer, const SliceLayout& layout) {
  arma::mat x(layout.k, layout.slices, arma::fill::zeros);
  double* flat = x.memptr();
  if (layout.conv) {
    ForEachConvPosition(
        layer, [&](std::uint64_t i, std::uint64_t j) { flat[j] = static_cast<double>(g[i]); });
  } else {
    for (std::uint64_t i = 0; i < layer.n; ++i) flat[i] = static_cast<double>(g[i]);
  }
  return x;
}

void FromSlices(const arma::mat& x, const LayerInfo& layer, const SliceLayout& layout, float* out) {
  const double* flat = x.memptr();
  if (layout.conv) {
    ForEachConvPosition(
        layer, [&](std::uint64_t i, std::uint64_t j) { out[i] = static_cast<float>(flat[j]); });
  } else {
    for (std::uint64_t i = 0; i < layer.n; ++i) out[i] = static_cast<float>(flat[i]);
  }
}

std::size_t ChooseDimension(const arma::vec& eigen, double lambda, double* retained) {
  const double top = eigen.n_elem ? eigen[0] : 0.0;
  std::vector<double> running(eigen.n_elem);
  double sum = 0.0;
  for (std::size_t k = 0; k < eigen.n_elem; ++k) {
    sum += eigen[k] > kEigenCutoff * top ? eigen[k] : 0.0;
    running[k] = sum;
  }
  const double total = sum;
  std::size_t d = 1;
  while (d < running.size() && running[d - 1] < (1.0 - lambda) * total) ++d;
  if (retained) *retained = total > 0 ? running[d - 1] / total : 1.0;
  return d;
}

PcaBasis FitBasis(const arma::mat& samples, double lambda) {
  PcaBasis out;
  out.mu = arma::mean(samples, 1);
  const arma::mat centered = samples.each_col() - out.mu;
  arma::mat u, v;
  arma::vec s;
  if (!centered.is_finite() || !arma::svd_econ(u, s, v, centered, "left")) return out;
  out.eigen = arma::square(s);
  out.d = ChooseDimension(out.eigen, lambda, &out.retained);
  out.u = u.cols(0, out.d - 1);
  out.ok = true;
  return out;
}

}  // namespace gradquant
