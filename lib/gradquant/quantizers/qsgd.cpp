#include "gradquant/quantizers/qsgd.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/quantizers/scale.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = 4096;

// Signed levels of one bucket: sign(v_i) * l_i with stochastic rounding of a_i = s|v_i|/scale.
void Levels(const float* v, std::size_t n, float scale, std::int32_t s, const Rng& rng,
            std::uint64_t first, std::int32_t* level) {
  double u[kChunk];
  const double ratio = static_cast<double>(s) / static_cast<double>(scale);
  for (std::size_t c = 0; c < n; c += kChunk) {
    const std::size_t len = std::min(kChunk, n - c);
    rng.Uniforms(first + c, len, u);
    for (std::size_t i = 0; i < len; ++i) {
      const double x = static_cast<double>(v[c + i]);
      const double a = std::fabs(x) * ratio;
      const double floorA = std::floor(a);
      const double l = std::min(floorA + (u[i] < a - floorA ? 1.0 : 0.0), static_cast<double>(s));
      level[c + i] = static_cast<std::int32_t>(x < 0 ? -l : l);
    }
  }
}

}  // namespace

QsgdQuantizer::QsgdQuantizer(Params& params) {
  s_ = static_cast<std::int32_t>(
      params.Int("s", 7, 1, 1 << 20, "quantization levels in [0, 1] (B-bit fixed: s = 2^(B-1)-1)"));
  bucket_ = static_cast<std::size_t>(params.Int(
      "bucket", 0, 0, std::int64_t{1} << 40, "coordinates per bucket with its own scale (0 = whole slab)"));
  l2_ = params.Choice("norm", "l2", {"l2", "max"}, "bucket scale: 2-norm (paper) or max |v_i|") ==
        "l2";
  elias_ = params.Choice("coding", "elias", {"elias", "fixed"},
                         "Elias-omega gaps and levels (paper) or fixed-width symbols") == "elias";
  spec_ = params.Canonical();
}

float QsgdQuantizer::BucketScale(const float* v, std::size_t n) const {
  double norm = 0.0;
  if (l2_) {
    for (std::size_t i = 0; i < n; ++i) norm += static_cast<double>(v[i]) * v[i];
    norm = std::sqrt(norm);
  } else {
    for (std::size_t i = 0; i < n; ++i) norm = std::max(norm, std::fabs(static_cast<double>(v[i])));
  }
  return RoundUpToFloat(norm);
}

Message QsgdQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                              SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  std::vector<std::int32_t> level(g.n_elem, 0);
  std::vector<std::uint32_t> symbols(g.n_elem);
  BitWriter w;
  std::size_t buckets = 0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    ++buckets;
    const float scale = BucketScale(g.memptr() + b0, b1 - b0);
    w.PutFloat32(scale);
    if (scale > 0) Levels(g.memptr() + b0, b1 - b0, scale, s_, rng, b0, level.data() + b0);
    for (std::size_t i = b0; i < b1; ++i) symbols[i] = static_cast<std::uint32_t>(level[i] + s_);
    if (!elias_) {
      w.PutFixed(symbols.data() + b0, b1 - b0, width);
      continue;
    }
    const std::size_t bucketNnz = static_cast<std::size_t>(
        std::count_if(level.begin() + b0, level.begin() + b1, [](std::int32_t l) { return l; }));
    PutOmega(w, bucketNnz + 1);
    std::size_t last = b0;  // gaps count from one before the bucket's first index
    for (std::size_t i = b0; i < b1; ++i) {
      if (level[i] == 0) continue;
      PutOmega(w, i + 1 - last);
      w.PutBit(level[i] < 0);
      PutOmega(w, static_cast<std::uint64_t>(std::abs(level[i])));
      last = i + 1;
    }
  }
  if (stats) {
    (*stats)["bits_entropy"] =
        EmpiricalEntropyBits(symbols.data(), symbols.size(), 2 * s_ + 1) + 32.0 * buckets;
    (*stats)["nnz_frac"] =
        g.n_elem ? static_cast<double>(std::count_if(level.begin(), level.end(),
                                                     [](std::int32_t l) { return l; })) /
                       g.n_elem
                 : 0.0;
  }
  return w.Finish();
}

arma::fvec QsgdQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  arma::fvec out(ctx.layer->n, arma::fill::zeros);
  std::vector<std::uint32_t> symbols;
  for (const auto& [b0, b1] : Buckets(out.n_elem, bucket_)) {
    const float scale = r.GetFloat32();
    if (!(scale >= 0.0f) || !std::isfinite(scale)) r.Fail("bucket scale is not a finite value >= 0");
    const double unit = static_cast<double>(scale) / s_;
    if (!elias_) {
      symbols.resize(b1 - b0);
      r.GetFixed(symbols.data(), symbols.size(), width);
      for (std::size_t i = 0; i < symbols.size(); ++i) {
        if (symbols[i] > 2 * static_cast<std::uint32_t>(s_)) r.Fail("symbol outside {0..2s}");
        out[b0 + i] = static_cast<float>(unit * (static_cast<double>(symbols[i]) - s_));
      }
      continue;
    }
    const std::uint64_t nnz = GetOmega(r) - 1;
    if (nnz > b1 - b0) r.Fail("bucket declares " + std::to_string(nnz) + " nonzeros in " +
                              std::to_string(b1 - b0) + " coordinates");
    std::uint64_t pos = b0;  // one past the last nonzero
    for (std::uint64_t j = 0; j < nnz; ++j) {
      const std::uint64_t gap = GetOmega(r);
      if (gap > b1 - pos) r.Fail("nonzero position past the end of its bucket");
      pos += gap;
      const bool negative = r.GetBit();
      const std::uint64_t l = GetOmega(r);
      if (l > static_cast<std::uint64_t>(s_)) r.Fail("level above s");
      const double value = unit * static_cast<double>(l);
      out[pos - 1] = static_cast<float>(negative ? -value : value);
    }
  }
  r.ExpectEnd();
  return out;
}

Theory QsgdQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  t.bound = l2_ ? 0.0 : std::numeric_limits<double>::quiet_NaN();
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    const float scale = BucketScale(g.memptr() + b0, b1 - b0);
    if (scale == 0.0f) continue;
    const double ratio = static_cast<double>(s_) / scale;
    double sumTau = 0.0, norm2 = 0.0;
    for (std::size_t i = b0; i < b1; ++i) {
      const double a = std::fabs(static_cast<double>(g[i])) * ratio;
      const double tau = a - std::floor(a);
      sumTau += tau * (1.0 - tau);
      norm2 += static_cast<double>(g[i]) * g[i];
    }
    t.exact += static_cast<double>(scale) * scale / (static_cast<double>(s_) * s_) * sumTau;
    if (l2_) {
      const double b = static_cast<double>(b1 - b0);
      t.bound += std::min(b / (static_cast<double>(s_) * s_), std::sqrt(b) / s_) * norm2;
    }
  }
  return t;
}

}  // namespace gradquant
