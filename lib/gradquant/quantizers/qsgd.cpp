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
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per generator batch (stack buffers)

// out_i = unit·(sym_i − s).
__attribute__((target_clones("avx2", "default"))) void FixedValueBlock(const std::uint32_t* sym,
                                                                       std::size_t n, double unit,
                                                                       std::int32_t s, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] =
        static_cast<float>(unit * (static_cast<double>(static_cast<std::int32_t>(sym[i])) - s));
  }
}

// Largest symbol of a block (a loop that vectorises, unlike std::max_element).
std::uint32_t MaxOf(const std::uint32_t* v, std::size_t n) {
  std::uint32_t m = 0;
  for (std::size_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  return m;
}

// The Elias codes of one segment's nonzeros, all but the first one's gap, which depends on the
// segment before it and is written when the segments are joined.
struct EliasPart {
  Message body;  // sign and level of the first nonzero, then (gap, sign, level)...
  std::size_t nnz = 0;
  std::size_t first = 0;  // index of the first nonzero
  std::size_t last = 0;   // index of the last nonzero
};

}  // namespace

QsgdQuantizer::QsgdQuantizer(Params& params) {
  s_ = static_cast<std::int32_t>(
      params.Int("s", 7, 1, 1 << 20, "quantization levels in [0, 1] (B-bit fixed: s = 2^(B-1)-1)"));
  bucket_ = static_cast<std::size_t>(
      params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                 "coordinates per bucket with its own scale (0 = whole slab)"));
  l2_ = params.Choice("norm", "l2", {"l2", "max"}, "bucket scale: 2-norm (paper) or max |v_i|") ==
        "l2";
  elias_ = params.Choice("coding", "elias", {"elias", "fixed"},
                         "Elias-omega gaps and levels (paper) or fixed-width symbols") == "elias";
  spec_ = params.Canonical();
}

float QsgdQuantizer::BucketScale(const float* v, std::size_t n) const {
  // RoundUpToFloat of the in-order double norm, or of max |v_i| (already a float).
  return l2_ ? RoundedUpNorm2(v, n) : MaxAbs(v, n);
}

Message QsgdQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  const SlabPlan plan(g.n_elem, bucket_);
  std::vector<float> scales(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    scales[k] = BucketScale(g.memptr() + b0, b1 - b0);
  });
  SymbolCounts counts(2 * static_cast<std::uint32_t>(s_) + 1, stats ? g.n_elem : 0);
  std::vector<std::size_t> nnz(plan.Pieces(), 0);
  std::vector<std::vector<EliasPart>> parts(elias_ ? plan.Pieces() : 0);

  // Levels of [c, c + len) into symbols (level + offset), counted for the stats.
  auto levels = [&](std::size_t p, float scale, std::size_t c, std::size_t len, std::int32_t offset,
                    std::int32_t* out) {
    if (scale > 0) {
      std::uint32_t words[kBlock];
      rng.Words(c, len, words);
      kernels::QsgdLevels(g.memptr() + c, words, len,
                          static_cast<double>(s_) / static_cast<double>(scale), s_, offset, out);
    } else {
      std::fill(out, out + len, offset);
    }
    if (stats) {
      std::uint32_t sym[kBlock];
      for (std::size_t i = 0; i < len; ++i)
        sym[i] = static_cast<std::uint32_t>(out[i] - offset + s_);
      counts.Add(c, sym, len);
      nnz[p] += len - static_cast<std::size_t>(
                          std::count(sym, sym + len, static_cast<std::uint32_t>(s_)));
    }
  };

  Message m;
  if (!elias_) {
    m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
      if (seg.head) w.PutFloat32(scales[seg.bucket]);
      std::int32_t symbols[kBlock];
      for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
        const std::size_t len = std::min(kBlock, seg.end - c);
        levels(p, scales[seg.bucket], c, len, s_, symbols);
        w.PutFixed(reinterpret_cast<const std::uint32_t*>(symbols), len, width);
      }
    });
  } else {
    SplitFor(plan.Pieces(), [&](std::size_t p) {
      plan.ForEachSegment(p, [&](const Segment& seg) {
        EliasPart part;
        BitWriter w;
        std::int32_t level[kBlock];
        for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
          const std::size_t len = std::min(kBlock, seg.end - c);
          levels(p, scales[seg.bucket], c, len, 0, level);
          for (std::size_t i = 0; i < len; ++i) {
            if (level[i] == 0) continue;
            const std::size_t at = c + i;
            if (part.nnz == 0) {
              part.first = at;
            } else {
              PutOmega(w, at - part.last);
            }
            w.PutBit(level[i] < 0);
            PutOmega(w, static_cast<std::uint64_t>(std::abs(level[i])));
            part.last = at;
            ++part.nnz;
          }
        }
        part.body = w.Finish();
        parts[p].push_back(std::move(part));
      });
    });
    // Join in order: per bucket the scale and the nonzero count, then each part's first gap
    // (counted from one before the bucket's first index) and its codes.
    BitWriter w;
    std::size_t bucketNnz = 0, last = 0;
    std::vector<const EliasPart*> bucketParts;
    auto flush = [&](float scale) {
      w.PutFloat32(scale);
      PutOmega(w, bucketNnz + 1);
      for (const EliasPart* part : bucketParts) {
        if (part->nnz == 0) continue;
        PutOmega(w, part->first + 1 - last);
        w.Append(part->body);
        last = part->last + 1;
      }
    };
    std::size_t bucket = 0;
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {
      std::size_t j = 0;
      plan.ForEachSegment(p, [&](const Segment& seg) {
        if (seg.head && !bucketParts.empty()) {
          flush(scales[bucket]);
          bucketParts.clear();
          bucketNnz = 0;
        }
        if (seg.head) {
          bucket = seg.bucket;
          last = plan.BucketRange(seg.bucket).first;
        }
        bucketParts.push_back(&parts[p][j]);
        bucketNnz += parts[p][j++].nnz;
      });
    }
    flush(scales[bucket]);
    m = w.Finish();
  }
  if (stats) {
    (*stats)[stat::kBitsEntropy] =
        counts.EntropyBits() + 32.0 * static_cast<double>(plan.Buckets());
    std::size_t total = 0;
    for (std::size_t x : nnz) total += x;
    (*stats)["nnz_frac"] =
        g.n_elem ? static_cast<double>(total) / static_cast<double>(g.n_elem) : 0.0;
  }
  return m;
}

arma::fvec QsgdQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const int width = CeilLog2(2 * static_cast<std::uint64_t>(s_) + 1);
  const SlabPlan plan(ctx.layer->n, bucket_);
  if (elias_) {
    arma::fvec out(ctx.layer->n, arma::fill::zeros);
    for (std::size_t k = 0; k < plan.Buckets(); ++k) {
      const auto [b0, b1] = plan.BucketRange(k);
      const float scale = r.GetFloat32();
      if (!(scale >= 0.0f) || !std::isfinite(scale)) {
        r.Fail("bucket scale is not a finite value >= 0");
      }
      const double unit = static_cast<double>(scale) / s_;
      const std::uint64_t nnz = GetOmega(r) - 1;
      if (nnz > b1 - b0)
        r.Fail("bucket declares " + std::to_string(nnz) + " nonzeros in " +
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
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const auto top = 2 * static_cast<std::uint32_t>(s_);
  PlanReader reader(r, plan, [&](const Segment& s) {
    return (s.head ? 32 : 0) + static_cast<std::uint64_t>(width) * s.Size();
  });
  std::vector<float> scales = reader.PeekFloatHeaders();
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    const float scale = reader.BucketScale(seg, in, width, "scale", scales);
    const double unit = static_cast<double>(scale) / s_;
    std::uint32_t symbols[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      in.GetFixed(symbols, len, width);
      if (MaxOf(symbols, len) > top) in.Fail("symbol outside {0..2s}");
      FixedValueBlock(symbols, len, unit, s_, out.memptr() + c);
    }
  });
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
