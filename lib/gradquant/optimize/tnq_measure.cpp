#include "gradquant/optimize/tnq_measure.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/spec.hpp"
#include "gradquant/quantizers/tnq.hpp"

namespace gradquant {
namespace {

// γ̂ = mean |g| rounded to float32, summed as TnqQuantizer does.
float MeanAbs(const arma::fvec& g) {
  double sum = 0.0;
  for (float x : g) sum += std::fabs(static_cast<double>(x));
  return g.n_elem ? static_cast<float>(sum / static_cast<double>(g.n_elem)) : 0.0f;
}

std::unique_ptr<Quantizer> MakeTnq(std::uint32_t bits, double alpha) {
  const std::string a = std::isnan(alpha) ? "auto" : FormatReal(alpha);
  return BuiltinRegistry().Make("tnq:alpha=" + a + ",bits=" + std::to_string(bits));
}

}  // namespace

TnqError MeasureTnq(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                    std::uint32_t bits, double alpha) {
  const auto owner = MakeTnq(bits, alpha);
  const auto& tnq = dynamic_cast<const TnqQuantizer&>(*owner);
  const std::size_t workers = slabs.size(), trials = where.trials;

  std::vector<std::vector<double>> levels(workers);
  std::vector<double> truncSq(workers, 0.0), normSq(workers, 0.0);
  for (std::size_t w = 0; w < workers; ++w) {
    const float gamma = MeanAbs(slabs[w]);
    if (gamma > 0) levels[w] = tnq.Levels(gamma);
    for (float x : slabs[w]) {
      const double g = x;
      normSq[w] += g * g;
      const double t = levels[w].empty() ? 0.0 : std::clamp(g, levels[w].front(), levels[w].back());
      truncSq[w] += (t - g) * (t - g);
    }
  }

  // One item per (trial, worker); each writes its own slots, summed in order afterwards.
  std::vector<double> errSq(workers * trials, 0.0), quantSq(workers * trials, 0.0);
  ParallelFor(workers * trials, [&](std::size_t item) {
    const std::size_t w = item % workers, r = item / workers;
    const arma::fvec& g = slabs[w];
    if (levels[w].empty()) {  // γ̂ = 0: the slab is all zeros and decodes to zeros
      return;
    }
    const StreamKey key{where.seed + r, where.step, static_cast<std::uint32_t>(w),
                        where.layer->index};
    std::vector<std::uint32_t> symbols(g.n_elem);
    TnqSymbols(g.memptr(), g.n_elem, levels[w], Rng(key, Purpose::kRounding), 0, symbols.data());
    const double lo = levels[w].front(), hi = levels[w].back();
    double e = 0, q = 0;
    for (std::size_t i = 0; i < g.n_elem; ++i) {
      const double out = static_cast<float>(levels[w][symbols[i]]);
      const double x = g[i], t = std::clamp(x, lo, hi);
      e += (out - x) * (out - x);
      q += (out - t) * (out - t);
    }
    errSq[item] = e;
    quantSq[item] = q;
  });

  double norm = 0, trunc = 0, err = 0, quant = 0;
  for (std::size_t w = 0; w < workers; ++w) {
    norm += normSq[w];
    trunc += truncSq[w];
  }
  for (std::size_t i = 0; i < errSq.size(); ++i) {
    err += errSq[i];
    quant += quantSq[i];
  }
  TnqError out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double r = static_cast<double>(trials);
  out.nmse = norm > 0 ? err / (r * norm) : nan;
  out.trunc = norm > 0 ? trunc / norm : nan;
  out.quant = norm > 0 ? quant / (r * norm) : nan;
  return out;
}

}  // namespace gradquant
