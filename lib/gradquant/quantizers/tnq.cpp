#include "gradquant/quantizers/tnq.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"
#include "gradquant/quantizers/stat_names.hpp"
#include "gradquant/stats/tnq_theory.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;    // coordinates per generator batch (stack buffers)
constexpr std::size_t kFewLevels = 16;  // up to here cells are found without a search

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
  std::uint32_t words[kBlock];
  const double lo = levels.front(), hi = levels.back();
  std::size_t clipped = 0;
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = std::min(kBlock, n - c);
    rng.Words(first + c, len, words);
    if (levels.size() <= kFewLevels) {
      clipped +=
          kernels::TnqSymbolsFew(g + c, words, len, levels.data(), levels.size(), symbols + c);
      continue;
    }
    for (std::size_t i = 0; i < len; ++i) {
      const double x = static_cast<double>(g[c + i]);
      clipped += (x < lo || x > hi) ? 1 : 0;
      const double t = std::clamp(x, lo, hi);
      const std::size_t j = Cell(levels, t);
      const double width = levels[j + 1] - levels[j];
      const double up = width > 0 ? (t - levels[j]) / width : 0.0;
      symbols[c + i] = static_cast<std::uint32_t>(j + (UniformFromWord(words[i]) < up ? 1 : 0));
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
  const SlabPlan plan(g.n_elem, bucket_);
  std::vector<float> gammas(plan.Buckets());
  std::vector<std::vector<double>> levels(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    gammas[k] = MeanAbsToFloat(g.memptr() + b0, b1 - b0);  // γ̂ rounded to the float sent
    if (gammas[k] > 0) levels[k] = Levels(gammas[k]);
  });
  SymbolCounts counts(s_ + 1, stats ? g.n_elem : 0);
  std::vector<std::size_t> clipped(plan.Pieces(), 0);
  Message m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
    if (seg.head) w.PutFloat32(gammas[seg.bucket]);
    std::uint32_t symbols[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      if (gammas[seg.bucket] > 0) {
        clipped[p] += TnqSymbols(g.memptr() + c, len, levels[seg.bucket], rng, c, symbols);
      } else {
        std::fill(symbols, symbols + len, 0u);
      }
      w.PutFixed(symbols, len, static_cast<int>(bits_));
      if (stats) counts.Add(c, symbols, len);
    }
  });
  if (stats) {
    double gammaSum = 0.0, alphaSum = 0.0;
    for (std::size_t k = 0; k < plan.Buckets(); ++k) {
      if (!(gammas[k] > 0)) continue;
      gammaSum += gammas[k];
      alphaSum += levels[k].back();
    }
    std::size_t clippedAll = 0;
    for (std::size_t c : clipped) clippedAll += c;
    const double nb = static_cast<double>(plan.Buckets());
    (*stats)["gamma"] = gammaSum / nb;
    (*stats)["alpha"] = alphaSum / nb;
    (*stats)["trunc_frac"] = g.n_elem ? static_cast<double>(clippedAll) / g.n_elem : 0.0;
    (*stats)[stat::kBitsEntropy] = counts.EntropyBits() + 32.0 * nb;
  }
  return m;
}

arma::fvec TnqQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, bucket_);
  PlanReader reader(r, plan, [&](const Segment& s) {
    return (s.head ? 32 : 0) + static_cast<std::uint64_t>(bits_) * s.Size();
  });
  std::vector<float> gammas = reader.PeekFloatHeaders();
  // The float value of every symbol, per bucket (levels depend on the bucket's γ̂ only).
  std::vector<std::vector<float>> tables(plan.Buckets());
  if (reader.Parallel() && plan.SplitsBuckets()) {
    ForEachBucket(plan, [&](std::size_t k) {
      if (gammas[k] > 0 && std::isfinite(gammas[k])) tables[k] = ValueTable(gammas[k]);
    });
  }
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    float gamma;
    if (seg.head) {
      gamma = in.GetFloat32();
      if (!(gamma >= 0.0f) || !std::isfinite(gamma)) {
        in.Fail("bucket gamma is not a finite value >= 0");
      }
      const auto [b0, b1] = plan.BucketRange(seg.bucket);
      in.CheckFixed(b1 - b0, static_cast<int>(bits_));  // the whole bucket, as one GetFixed
      // Other pieces read this bucket's table only when pieces split buckets (and then it was
      // made above); otherwise only this piece uses it.
      if (!reader.Parallel() || !plan.SplitsBuckets()) {
        gammas[seg.bucket] = gamma;
        if (gamma > 0) tables[seg.bucket] = ValueTable(gamma);
      }
    } else {
      gamma = gammas[seg.bucket];
    }
    const std::vector<float>& table = tables[seg.bucket];
    std::uint32_t symbols[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      in.GetFixed(symbols, len, static_cast<int>(bits_));  // every value is a level
      float* dst = out.memptr() + c;
      if (gamma == 0.0f) {
        if (std::any_of(symbols, symbols + len, [](std::uint32_t v) { return v != 0; })) {
          in.Fail("non-zero symbol in a bucket with gamma 0");
        }
        std::fill(dst, dst + len, 0.0f);
        continue;
      }
      kernels::Lookup(symbols, len, table.data(), table.size(), dst);
    }
  });
  r.ExpectEnd();
  return out;
}

std::vector<float> TnqQuantizer::ValueTable(float gamma) const {
  const std::vector<double> levels = Levels(gamma);
  std::vector<float> table(levels.size());
  for (std::size_t j = 0; j < levels.size(); ++j) table[j] = ToFloat(levels[j]);
  return table;
}

Theory TnqQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    const float gamma = MeanAbsToFloat(g.memptr() + b0, b1 - b0);
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
