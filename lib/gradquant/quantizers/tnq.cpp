#include "gradquant/quantizers/tnq.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/stats/tnq_theory.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = 4096;  // uniforms generated per batch

// γ̂ = mean |g| rounded to the float32 that is sent.
float MeanAbs(const float* g, std::size_t n) {
  double sum = 0.0;
  for (std::size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(g[i]));
  return n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

// The cell [ℓ_j, ℓ_{j+1}] of a clipped value t: the largest j with ℓ_j <= t, at most s−1.
std::size_t Cell(const std::vector<double>& levels, double t) {
  const auto it = std::upper_bound(levels.begin(), levels.end(), t);
  const std::size_t j =
      it == levels.begin() ? 0 : static_cast<std::size_t>(it - levels.begin()) - 1;
  return std::min(j, levels.size() - 2);
}

float ToFloat(double level) {
  const double big = std::numeric_limits<float>::max();
  return static_cast<float>(std::clamp(level, -big, big));
}

}  // namespace

std::size_t TnqSymbols(const float* g, std::size_t n, const std::vector<double>& levels,
                       const Rng& rng, std::uint64_t first, std::uint32_t* symbols) {
  double u[kChunk];
  const double lo = levels.front(), hi = levels.back();
  std::size_t clipped = 0;
  for (std::size_t c = 0; c < n; c += kChunk) {
    const std::size_t len = std::min(kChunk, n - c);
    rng.Uniforms(first + c, len, u);
    for (std::size_t i = 0; i < len; ++i) {
      const double x = static_cast<double>(g[c + i]);
      clipped += (x < lo || x > hi) ? 1 : 0;
      const double t = std::clamp(x, lo, hi);
      const std::size_t j = Cell(levels, t);
      const double width = levels[j + 1] - levels[j];
      const double up = width > 0 ? (t - levels[j]) / width : 0.0;
      symbols[c + i] = static_cast<std::uint32_t>(j + (u[i] < up ? 1 : 0));
    }
  }
  return clipped;
}

TnqQuantizer::TnqQuantizer(Params& params) {
  bits_ = static_cast<std::uint32_t>(
      params.Int("bits", 2, 1, 16, "bits per coordinate: s = 2^bits - 1 intervals, 2^bits levels"));
  s_ = (1u << bits_) - 1;
  alpha_ = params.AutoOrReal(
      "alpha", 1e-30, 1e30, "threshold: auto = 3*gamma*ln(1 + s/a) (Laplace optimum), or absolute");
  laplace_ = params.Choice("levels", "laplace", {"laplace", "uniform"},
                           "level placement: companded for Laplace (density ~ p^(1/3)) or "
                           "equally spaced on [-alpha, alpha]") == "laplace";
  bucket_ = static_cast<std::size_t>(
      params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                 "coordinates per bucket with its own gamma (0 = whole slab)"));
  spec_ = params.Canonical();
}

std::vector<double> TnqQuantizer::Levels(float gamma) const {
  const double g = static_cast<double>(gamma);
  const bool automatic = std::isnan(alpha_);
  const double alpha = automatic ? TnqAlphaStar(g, s_) : alpha_;
  if (!laplace_) return TnqUniformLevels(alpha, s_);
  return automatic ? TnqLevelsAtOptimum(g, s_) : TnqLaplaceLevels(alpha, g, s_);
}

Message TnqQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  std::vector<std::uint32_t> symbols(g.n_elem, 0);
  BitWriter w;
  std::size_t buckets = 0, clipped = 0;
  double gammaSum = 0.0, alphaSum = 0.0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    ++buckets;
    const float gamma = MeanAbs(g.memptr() + b0, b1 - b0);
    w.PutFloat32(gamma);
    if (gamma > 0) {
      const std::vector<double> levels = Levels(gamma);
      clipped += TnqSymbols(g.memptr() + b0, b1 - b0, levels, rng, b0, symbols.data() + b0);
      gammaSum += gamma;
      alphaSum += levels.back();
    }
    w.PutFixed(symbols.data() + b0, b1 - b0, static_cast<int>(bits_));
  }
  if (stats) {
    const double nb = static_cast<double>(buckets);
    (*stats)["gamma"] = gammaSum / nb;
    (*stats)["alpha"] = alphaSum / nb;
    (*stats)["trunc_frac"] = g.n_elem ? static_cast<double>(clipped) / g.n_elem : 0.0;
    (*stats)["bits_entropy"] =
        EmpiricalEntropyBits(symbols.data(), symbols.size(), s_ + 1) + 32.0 * nb;
  }
  return w.Finish();
}

arma::fvec TnqQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::zeros);
  std::vector<std::uint32_t> symbols;
  for (const auto& [b0, b1] : Buckets(out.n_elem, bucket_)) {
    const float gamma = r.GetFloat32();
    if (!(gamma >= 0.0f) || !std::isfinite(gamma))
      r.Fail("bucket gamma is not a finite value >= 0");
    symbols.resize(b1 - b0);
    r.GetFixed(symbols.data(), symbols.size(), static_cast<int>(bits_));  // every value is a level
    if (gamma == 0.0f) {
      if (std::any_of(symbols.begin(), symbols.end(), [](std::uint32_t v) { return v != 0; })) {
        r.Fail("non-zero symbol in a bucket with gamma 0");
      }
      continue;
    }
    const std::vector<double> levels = Levels(gamma);
    for (std::size_t i = 0; i < symbols.size(); ++i) out[b0 + i] = ToFloat(levels[symbols[i]]);
  }
  r.ExpectEnd();
  return out;
}

Theory TnqQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    const float gamma = MeanAbs(g.memptr() + b0, b1 - b0);
    if (gamma == 0.0f) {  // decoded as zeros
      for (std::size_t i = b0; i < b1; ++i) t.exact += static_cast<double>(g[i]) * g[i];
      continue;
    }
    const std::vector<double> levels = Levels(gamma);
    for (std::size_t i = b0; i < b1; ++i) {
      const double x = static_cast<double>(g[i]);
      const double c = std::clamp(x, levels.front(), levels.back());
      const std::size_t j = Cell(levels, c);
      t.exact += (c - x) * (c - x) + (levels[j + 1] - c) * (c - levels[j]);
    }
  }
  return t;
}

}  // namespace gradquant
