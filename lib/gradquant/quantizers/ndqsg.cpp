#include "gradquant/quantizers/ndqsg.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per generator batch (stack buffers)

// floor(2^bits / rho) for 1 <= bits <= 64.
std::uint64_t FloorPow2Div(int bits, std::uint64_t rho) {
  if (bits < 64) return (std::uint64_t{1} << bits) / rho;
  const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();  // 2^64 - 1
  return max / rho + (max % rho == rho - 1 ? 1 : 0);
}

// True if rho^count <= 2^bits, in exact integer arithmetic.
bool PowerFits(std::uint64_t rho, int count, int bits) {
  const std::uint64_t limit = FloorPow2Div(bits, rho);
  std::uint64_t p = 1;
  for (int i = 0; i < count; ++i) {
    if (p > limit) return false;
    p *= rho;  // <= 2^bits; wraps to 0 only when it is exactly 2^64
    if (p == 0 && i + 1 < count) return false;
  }
  return true;
}

// Fewest whole bytes holding rho^count values.
int BytesFor(std::uint64_t rho, int count) {
  int bytes = 1;
  while (!PowerFits(rho, count, 8 * bytes)) ++bytes;
  return bytes;
}

// The residues' wire format: fixed-width fields or base-rho chunks.
struct ResidueCoding {
  std::uint32_t rho;
  bool base;
  BaseChunk chunk;

  void Put(BitWriter& w, const std::uint32_t* m, std::size_t n) const {
    if (!base) {
      w.PutFixed(m, n, CeilLog2(rho));
      return;
    }
    for (std::size_t i = 0; i < n; i += static_cast<std::size_t>(chunk.symbols)) {
      const int count = static_cast<int>(std::min<std::size_t>(chunk.symbols, n - i));
      const int bytes = count == chunk.symbols ? chunk.bytes : BytesFor(rho, count);
      std::uint64_t v = 0;
      for (int j = 0; j < count; ++j) v = v * rho + m[i + static_cast<std::size_t>(j)];
      w.Put(v, 8 * bytes);
    }
  }

  void Get(BitReader& r, std::uint32_t* m, std::size_t n) const {
    if (!base) {
      r.GetFixed(m, n, CeilLog2(rho));
      for (std::size_t i = 0; i < n; ++i) {
        if (m[i] >= rho) r.Fail("residue " + std::to_string(m[i]) + " outside {0..rho-1}");
      }
      return;
    }
    for (std::size_t i = 0; i < n; i += static_cast<std::size_t>(chunk.symbols)) {
      const int count = static_cast<int>(std::min<std::size_t>(chunk.symbols, n - i));
      const int bytes = count == chunk.symbols ? chunk.bytes : BytesFor(rho, count);
      std::uint64_t v = r.Get(8 * bytes);
      for (int j = count - 1; j >= 0; --j) {
        m[i + static_cast<std::size_t>(j)] = static_cast<std::uint32_t>(v % rho);
        v /= rho;
      }
      if (v != 0) r.Fail("base-rho chunk value out of range");
    }
  }
};

__attribute__((target_clones("avx2", "default"))) void AddBlock(const float* x, std::size_t n,
                                                                double* sum) {
  for (std::size_t i = 0; i < n; ++i) sum[i] += static_cast<double>(x[i]);
}

__attribute__((target_clones("avx2", "default"))) void DivideBlock(const double* sum, std::size_t n,
                                                                   double count, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(sum[i] / count);
}

// The server's side information: the mean of the reconstructions it has taken in so far,
// kept as the double sum (in worker order) and the count; y_i = sum_i / count.
class SideTracker {
 public:
  explicit SideTracker(std::size_t n) : sum_(n, 0.0) {}
  void Add(const arma::fvec& decoded) {
    AddInto(sum_.data(), decoded);
    ++count_;
  }
  const double* Sum() const { return sum_.data(); }
  double Count() const { return static_cast<double>(count_); }
  arma::vec Mean() const {
    arma::vec y(sum_.size());
    for (std::size_t i = 0; i < sum_.size(); ++i) y[i] = count_ ? sum_[i] / Count() : 0.0;
    return y;
  }
  // sum_i += (double)x_i, in parallel pieces.
  static void AddInto(double* sum, const arma::fvec& x) {
    constexpr std::size_t kPiece = std::size_t{1} << 18;
    const float* p = x.memptr();
    SplitFor((x.n_elem + kPiece - 1) / kPiece, [&](std::size_t c) {
      const std::size_t b = c * kPiece;
      AddBlock(p + b, std::min<std::size_t>(x.n_elem - b, kPiece), sum + b);
    });
  }

 private:
  std::vector<double> sum_;
  std::size_t count_ = 0;
};

// Keeps k = m - rho*q inside int32 for any m in {0..rho-1}.
double QMax(std::int32_t rho) {
  return std::floor((std::numeric_limits<std::int32_t>::max() - (rho - 1.0)) / rho);
}

// Coordinates per block: whole base-rho chunks.
std::size_t BlockFor(const ResidueCoding& coding) {
  const std::size_t c = coding.base ? static_cast<std::size_t>(coding.chunk.symbols) : 1;
  return kBlock - kBlock % c;
}

}  // namespace

void NestedIndices(const std::uint32_t* m, std::size_t n, float step, std::int32_t rho,
                   const double* y, const Rng& dither, std::uint64_t first, std::int32_t* k) {
  std::uint32_t words[kBlock];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = std::min(kBlock, n - c);
    dither.Words(first + c, len, words);
    kernels::NestedIndices(m + c, words, len, static_cast<double>(step), static_cast<double>(rho),
                           QMax(rho), y + c, 1.0, k + c);
  }
}

BaseChunk BaseChunkFor(std::uint32_t rho) {
  BaseChunk best;
  for (int bytes = 1; bytes <= 8; ++bytes) {
    int count = 0;
    while (PowerFits(rho, count + 1, 8 * bytes)) ++count;
    if (count == 0) continue;
    // 8B/c smaller than the best so far; a tie keeps the smaller chunk.
    if (best.symbols == 0 || bytes * best.symbols < best.bytes * count) best = {count, bytes};
  }
  return best;
}

NdqsgQuantizer::NdqsgQuantizer(Params& params) {
  s_ = static_cast<std::int32_t>(
      params.Int("s", 3, 1, 1 << 20, "fine levels per side: DQSG step max|g|/s"));
  rho_ = static_cast<std::int32_t>(params.Int(
      "rho", 3, 2, 1 << 16, "nesting ratio: nested workers send k mod rho (coarse step rho*step)"));
  ratio_ = params.Real("ratio", 0.5, 0.0, 1.0,
                       "workers w < ratio*W send plain DQSG and seed the side information");
  sideRunning_ = params.Choice("side", "running", {"running", "dqsg"},
                               "side information: mean of all workers decoded so far, or of the "
                               "DQSG workers only") == "running";
  base_ = params.Choice("packing", "fixed", {"fixed", "base"},
                        "residues in ceil(log2 rho) bits each, or base-rho chunks of whole "
                        "bytes") == "base";
  bucket_ = static_cast<std::size_t>(
      params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                 "coordinates per bucket with its own step (0 = whole slab)"));
  spec_ = params.Canonical();
  Params dq(ParsedSpec{"dqsg", {{"s", std::to_string(s_)}, {"bucket", std::to_string(bucket_)}}});
  dqsg_ = std::make_unique<DqsgQuantizer>(dq);
}

bool NdqsgQuantizer::IsDqsgWorker(std::uint32_t w, std::uint32_t workers) const {
  return static_cast<double>(w) < ratio_ * static_cast<double>(workers);
}

Message NdqsgQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                               SlabStats* stats) const {
  const double perBucket = 32.0 * static_cast<double>(SlabPlan(g.n_elem, bucket_).Buckets());
  if (IsDqsgWorker(ctx.worker, ctx.workers)) {
    Message m = dqsg_->Encode(g, ctx, stats);
    if (stats) {
      (*stats)["bits_ideal"] = g.n_elem * std::log2(2.0 * s_ + 1.0) + perBucket;
      (*stats)["nested"] = 0.0;
    }
    return m;
  }
  const Rng dither(ctx.Key(), Purpose::kDither);
  const ResidueCoding coding{static_cast<std::uint32_t>(rho_), base_, BaseChunkFor(rho_)};
  const std::size_t block = BlockFor(coding);
  const SlabPlan plan(g.n_elem, bucket_, kPieceGrain - kPieceGrain % block);
  std::vector<float> steps(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    steps[k] = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), s_);
  });
  // k mod rho in {0..rho-1} for k in {-s..s}, by table.
  std::vector<std::uint32_t> residue(2 * static_cast<std::size_t>(s_) + 1);
  for (std::int32_t k = -s_; k <= s_; ++k)
    residue[k + s_] = static_cast<std::uint32_t>(((k % rho_) + rho_) % rho_);
  SymbolCounts counts(static_cast<std::uint32_t>(rho_), stats ? g.n_elem : 0);
  Message out = EncodePlan(plan, [&](std::size_t, const Segment& seg, BitWriter& w) {
    const float step = steps[seg.bucket];
    if (seg.head) w.PutFloat32(step);
    std::int32_t k[kBlock];
    std::uint32_t m[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += block) {
      const std::size_t len = std::min(block, seg.end - c);
      if (step > 0) {
        DitheredIndices(g.memptr() + c, len, step, s_, dither, c, k);
        for (std::size_t i = 0; i < len; ++i) m[i] = residue[static_cast<std::size_t>(k[i] + s_)];
      } else {
        std::fill(m, m + len, 0u);
      }
      coding.Put(w, m, len);
      if (stats) counts.Add(c, m, len);
    }
  });
  if (stats) {
    (*stats)[stat::kBitsEntropy] = counts.EntropyBits() + perBucket;
    (*stats)["bits_ideal"] = g.n_elem * std::log2(static_cast<double>(rho_)) + perBucket;
    (*stats)["nested"] = 1.0;
  }
  return out;
}

arma::fvec NdqsgQuantizer::DecodeNested(const Message& message, const double* ySum, double yCount,
                                        const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const Rng dither(ctx.Key(), Purpose::kDither);
  const ResidueCoding coding{static_cast<std::uint32_t>(rho_), base_, BaseChunkFor(rho_)};
  const std::size_t block = BlockFor(coding);
  const int width = CeilLog2(static_cast<std::uint64_t>(rho_));
  arma::fvec out(ctx.layer->n, arma::fill::zeros);
  const SlabPlan plan(out.n_elem, bucket_, kPieceGrain - kPieceGrain % block);
  PlanReader reader(r, plan, [&](const Segment& s) -> std::uint64_t {
    std::uint64_t bits = s.head ? 32 : 0;
    if (!base_) return bits + static_cast<std::uint64_t>(width) * s.Size();
    const std::size_t whole = s.Size() / static_cast<std::size_t>(coding.chunk.symbols);
    const int rest = static_cast<int>(s.Size() % static_cast<std::size_t>(coding.chunk.symbols));
    bits += 8 * static_cast<std::uint64_t>(coding.chunk.bytes) * whole;
    return rest ? bits + 8 * static_cast<std::uint64_t>(BytesFor(coding.rho, rest)) : bits;
  });
  std::vector<float> steps = reader.PeekFloatHeaders();
  const double qMax = QMax(rho_);
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    float step;
    if (seg.head) {
      step = in.GetFloat32();
      if (!(step >= 0.0f) || !std::isfinite(step))
        in.Fail("bucket step is not a finite value >= 0");
      if (!base_) {
        const auto [b0, b1] = plan.BucketRange(seg.bucket);
        in.CheckFixed(b1 - b0, width);  // the whole bucket first, as one GetFixed would
      }
      if (!reader.Parallel()) steps[seg.bucket] = step;
    } else {
      step = steps[seg.bucket];
    }
    std::uint32_t m[kBlock], words[kBlock];
    std::int32_t k[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += block) {
      const std::size_t len = std::min(block, seg.end - c);
      coding.Get(in, m, len);
      if (step == 0.0f) {
        if (std::any_of(m, m + len, [](std::uint32_t v) { return v != 0; })) {
          in.Fail("non-zero residue in a bucket with step 0");
        }
        continue;  // exact zeros, no side information needed
      }
      dither.Words(c, len, words);
      kernels::NestedIndices(m, words, len, static_cast<double>(step), static_cast<double>(rho_),
                             qMax, ySum + c, yCount, k);
      DitheredValues(k, len, step, dither, c, out.memptr() + c);
    }
  });
  r.ExpectEnd();
  return out;
}

GroupResult NdqsgQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                        const SlabContext& ctx) const {
  if (messages.size() != ctx.workers) {
    throw std::invalid_argument("ndqsg: " + std::to_string(messages.size()) +
                                " messages for a group of " + std::to_string(ctx.workers));
  }
  GroupResult out;
  out.workers.resize(messages.size());
  SideTracker side(ctx.layer->n);
  // With side=running every worker enters the side information: its sum is the total.
  std::vector<double> sum(sideRunning_ ? 0 : ctx.layer->n, 0.0);
  for (std::uint32_t w = 0; w < ctx.workers; ++w) {
    const SlabContext wctx = ctx.ForWorker(w);
    const bool dqsg = IsDqsgWorker(w, ctx.workers);
    out.workers[w] = dqsg ? dqsg_->Decode(messages[w], wctx)
                          : DecodeNested(messages[w], side.Sum(), side.Count(), wctx);
    if (sideRunning_ || dqsg) side.Add(out.workers[w]);
    if (!sideRunning_) SideTracker::AddInto(sum.data(), out.workers[w]);
  }
  const double* total = sideRunning_ ? side.Sum() : sum.data();
  out.aggregate.set_size(ctx.layer->n);
  DivideBlock(total, ctx.layer->n, static_cast<double>(ctx.workers), out.aggregate.memptr());
  out.downlinkBits = 32 * ctx.layer->n;
  return out;
}

Theory NdqsgQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  Theory t = dqsg_->ExpectedError(g, ctx);
  if (IsDqsgWorker(ctx.worker, ctx.workers)) return t;
  t.lowerBound = t.exact;
  t.exact = std::numeric_limits<double>::quiet_NaN();
  return t;
}

void NdqsgQuantizer::Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                              const SlabContext& ctx, SlabStats* stats) const {
  if (!stats) return;
  double coords = 0, overloaded = 0, predicted = 0, offset = 0, offsetCount = 0;
  double errAll = 0, errOverload = 0;
  SideTracker side(ctx.layer->n);
  std::vector<std::int32_t> k;
  std::vector<float> reference;
  for (std::uint32_t w = 0; w < truth.size(); ++w) {
    const arma::fvec& g = truth[w];
    const arma::fvec& out = decoded.workers.at(w);
    for (std::size_t i = 0; i < g.n_elem; ++i) {
      const double e = static_cast<double>(out[i]) - g[i];
      errAll += e * e;
    }
    const bool dqsg = IsDqsgWorker(w, ctx.workers);
    if (!dqsg) {
      const arma::vec y = side.Mean();
      const Rng dither(ctx.ForWorker(w).Key(), Purpose::kDither);
      coords += static_cast<double>(g.n_elem);
      for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
        const float step = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), s_);
        if (step == 0.0f) continue;  // decoded as exact zeros: never overloads
        k.resize(b1 - b0);
        reference.resize(b1 - b0);
        DitheredIndices(g.memptr() + b0, b1 - b0, step, s_, dither, b0, k.data());
        DitheredValues(k.data(), k.size(), step, dither, b0, reference.data());
        for (std::size_t i = b0; i < b1; ++i) {
          const double d = std::fabs(static_cast<double>(g[i]) - y[i]) / step;
          offset += d;
          offsetCount += 1;
          predicted += std::clamp(d - 0.5 * (rho_ - 1), 0.0, 1.0);
          if (out[i] != reference[i - b0]) {
            overloaded += 1;
            const double e = static_cast<double>(out[i]) - g[i];
            errOverload += e * e;
          }
        }
      }
    }
    if (sideRunning_ || dqsg) side.Add(out);
  }
  (*stats)["overload_frac"] = coords > 0 ? overloaded / coords : 0.0;
  (*stats)[stat::kOverloadPred] = coords > 0 ? predicted / coords : 0.0;
  (*stats)["offset_mean"] = offsetCount > 0 ? offset / offsetCount : 0.0;
  (*stats)["overload_err_share"] = errAll > 0 ? errOverload / errAll : 0.0;
}

}  // namespace gradquant
