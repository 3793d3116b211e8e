#include "gradquant/quantizers/dqsg.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per generator batch (stack buffers)

// out_i = step·(k_i − u_i) with k_i = sym_i − offset and u_i = U_i − 1/2.
__attribute__((target_clones("avx2", "default"))) void ValueBlock(const std::int32_t* sym,
                                                                  const std::uint32_t* words,
                                                                  std::size_t n, double step,
                                                                  std::int32_t offset, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>(
        step * (static_cast<double>(sym[i] - offset) - (UniformFromWord(words[i]) - 0.5)));
  }
}

// Largest symbol of a block (symbols are unsigned on the wire).
std::uint32_t MaxOf(const std::uint32_t* v, std::size_t n) {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  return m;
}

}  // namespace

void DitheredIndices(const float* g, std::size_t n, float step, std::int32_t s, const Rng& dither,
                     std::uint64_t first, std::int32_t* k) {
  std::uint32_t words[kBlock];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = std::min(kBlock, n - c);
    dither.Words(first + c, len, words);
    kernels::DitherIndices(g + c, words, len, static_cast<double>(step), s, 0, k + c);
  }
}

void DitheredValues(const std::int32_t* k, std::size_t n, float step, const Rng& dither,
                    std::uint64_t first, float* out) {
  std::uint32_t words[kBlock];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = std::min(kBlock, n - c);
    dither.Words(first + c, len, words);
    ValueBlock(k + c, words, len, static_cast<double>(step), 0, out + c);
  }
}

DqsgQuantizer::DqsgQuantizer(Params& params) {
  s_ = static_cast<std::int32_t>(
      params.Int("s", 3, 1, 1 << 20, "levels per side: symbols k in {-s..s}, step max|g|/s"));
  bucket_ = static_cast<std::size_t>(
      params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                 "coordinates per bucket with its own step (0 = whole slab)"));
  spec_ = params.Canonical();
}

Message DqsgQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const {
  const Rng dither(ctx.Key(), Purpose::kDither);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  const SlabPlan plan(g.n_elem, bucket_);
  std::vector<float> steps(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    steps[k] = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), s_);
  });
  SymbolCounts counts(2 * static_cast<std::uint32_t>(s_) + 1, stats ? g.n_elem : 0);
  Message m = EncodePlan(plan, [&](std::size_t, const Segment& seg, BitWriter& w) {
    const float step = steps[seg.bucket];
    if (seg.head) w.PutFloat32(step);
    std::uint32_t words[kBlock];
    std::int32_t symbols[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      if (step > 0) {
        dither.Words(c, len, words);
        kernels::DitherIndices(g.memptr() + c, words, len, static_cast<double>(step), s_, s_,
                               symbols);
      } else {
        std::fill(symbols, symbols + len, s_);  // k = 0
      }
      const auto* sym = reinterpret_cast<const std::uint32_t*>(symbols);
      w.PutFixed(sym, len, width);
      if (stats) counts.Add(c, sym, len);
    }
  });
  if (stats) {
    (*stats)[stat::kBitsEntropy] =
        counts.EntropyBits() + 32.0 * static_cast<double>(plan.Buckets());
  }
  return m;
}

arma::fvec DqsgQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const Rng dither(ctx.Key(), Purpose::kDither);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  const auto top = 2 * static_cast<std::uint32_t>(s_);
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, bucket_);
  PlanReader reader(r, plan, [&](const Segment& s) {
    return (s.head ? 32 : 0) + static_cast<std::uint64_t>(width) * s.Size();
  });
  std::vector<float> steps = reader.PeekFloatHeaders();
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    const float step = reader.BucketScale(seg, in, width, "step", steps);
    std::uint32_t words[kBlock];
    std::uint32_t symbols[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      in.GetFixed(symbols, len, width);
      if (MaxOf(symbols, len) > top) in.Fail("symbol outside {0..2s}");
      if (step == 0.0f) {
        if (std::any_of(symbols, symbols + len,
                        [&](std::uint32_t v) { return v != static_cast<std::uint32_t>(s_); })) {
          in.Fail("non-zero symbol in a bucket with step 0");
        }
        std::fill(out.memptr() + c, out.memptr() + c + len, 0.0f);
        continue;
      }
      dither.Words(c, len, words);
      ValueBlock(reinterpret_cast<const std::int32_t*>(symbols), words, len,
                 static_cast<double>(step), s_, out.memptr() + c);
    }
  });
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
