#include "gradquant/quantizers/dqsg.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/quantizers/scale.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = 4096;  // uniforms generated per batch

float MaxAbs(const float* g, std::size_t n) {
  float m = 0.0f;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(g[i]));
  return m;
}

}  // namespace

void DitheredIndices(const float* g, std::size_t n, float step, std::int32_t s, const Rng& dither,
                     std::uint64_t first, std::int32_t* k) {
  double u[kChunk];
  const double d = static_cast<double>(step);
  for (std::size_t c = 0; c < n; c += kChunk) {
    const std::size_t len = std::min(kChunk, n - c);
    dither.Uniforms(first + c, len, u);
    for (std::size_t i = 0; i < len; ++i) {
      // y + (U - 1/2) + 1/2 = y + U: floor(y + U) is the half-up rounding of y + u.
      const double t = std::floor(static_cast<double>(g[c + i]) / d + u[i]);
      k[c + i] = static_cast<std::int32_t>(std::clamp(t, -static_cast<double>(s),
                                                      static_cast<double>(s)));
    }
  }
}

void DitheredValues(const std::int32_t* k, std::size_t n, float step, const Rng& dither,
                    std::uint64_t first, float* out) {
  double u[kChunk];
  for (std::size_t c = 0; c < n; c += kChunk) {
    const std::size_t len = std::min(kChunk, n - c);
    dither.Uniforms(first + c, len, u);
    for (std::size_t i = 0; i < len; ++i) {
      out[c + i] = static_cast<float>(static_cast<double>(step) *
                                      (static_cast<double>(k[c + i]) - (u[i] - 0.5)));
    }
  }
}

DqsgQuantizer::DqsgQuantizer(Params& params) {
  s_ = static_cast<std::int32_t>(
      params.Int("s", 3, 1, 1 << 20, "levels per side: symbols k in {-s..s}, step max|g|/s"));
  bucket_ = static_cast<std::size_t>(params.Int(
      "bucket", 0, 0, std::int64_t{1} << 40, "coordinates per bucket with its own step (0 = whole slab)"));
  spec_ = params.Canonical();
}

Message DqsgQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                              SlabStats* stats) const {
  const Rng dither(ctx.Key(), Purpose::kDither);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  std::vector<std::int32_t> k(g.n_elem);
  std::vector<std::uint32_t> symbols(g.n_elem);
  BitWriter w;
  std::size_t buckets = 0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    ++buckets;
    const float step = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), s_);
    w.PutFloat32(step);
    if (step > 0) {
      DitheredIndices(g.memptr() + b0, b1 - b0, step, s_, dither, b0, k.data() + b0);
    } else {
      std::fill(k.begin() + b0, k.begin() + b1, 0);
    }
    for (std::size_t i = b0; i < b1; ++i) symbols[i] = static_cast<std::uint32_t>(k[i] + s_);
    w.PutFixed(symbols.data() + b0, b1 - b0, width);
  }
  if (stats) {
    (*stats)["bits_entropy"] =
        EmpiricalEntropyBits(symbols.data(), symbols.size(), 2 * s_ + 1) + 32.0 * buckets;
  }
  return w.Finish();
}

arma::fvec DqsgQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const Rng dither(ctx.Key(), Purpose::kDither);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  arma::fvec out(ctx.layer->n);
  std::vector<std::uint32_t> symbols;
  std::vector<std::int32_t> k;
  for (const auto& [b0, b1] : Buckets(out.n_elem, bucket_)) {
    const float step = r.GetFloat32();
    if (!(step >= 0.0f) || !std::isfinite(step)) r.Fail("bucket step is not a finite value >= 0");
    symbols.resize(b1 - b0);
    k.resize(b1 - b0);
    r.GetFixed(symbols.data(), symbols.size(), width);
    for (std::size_t i = 0; i < symbols.size(); ++i) {
      if (symbols[i] > 2 * static_cast<std::uint32_t>(s_)) r.Fail("symbol outside {0..2s}");
      k[i] = static_cast<std::int32_t>(symbols[i]) - s_;
    }
    if (step == 0.0f) {
      if (std::any_of(k.begin(), k.end(), [](std::int32_t v) { return v != 0; })) {
        r.Fail("non-zero symbol in a bucket with step 0");
      }
      std::fill(out.begin() + b0, out.begin() + b1, 0.0f);
    } else {
      DitheredValues(k.data(), k.size(), step, dither, b0, out.memptr() + b0);
    }
  }
  r.ExpectEnd();
  return out;
}

Theory DqsgQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    const double step = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), s_);
    t.exact += static_cast<double>(b1 - b0) * step * step / 12.0;
  }
  return t;
}

}  // namespace gradquant
