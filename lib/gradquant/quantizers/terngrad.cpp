#include "gradquant/quantizers/terngrad.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {
namespace {

// Coordinates per generator batch (stack buffers): whole base-3 bytes of 5 trits, so that the
// blocks of a bucket pack exactly as the bucket does in one piece.
constexpr std::size_t kBlock = 2045;

// Adds the mean of the per-worker stats to *into, as Quantizer::EncodeGroup does.
void AddMeanStats(const std::vector<SlabStats>& perWorker, SlabStats* into) {
  if (!into) return;
  for (const auto& s : perWorker) {
    for (const auto& [key, value] : s)
      (*into)[key] += value / static_cast<double>(perWorker.size());
  }
}

}  // namespace

TernGradQuantizer::TernGradQuantizer(Params& params) {
  bucket_ = static_cast<std::size_t>(
      params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                 "coordinates per bucket with its own scale (0 = whole slab)"));
  clip_ =
      params.Real("clip", 0.0, 0.0, 1e6,
                  "clip to c*sigma (slab std) before ternarizing; 0 = off, paper: 2.5 (biased)");
  shared_ =
      params.Choice("scale", "own", {"own", "shared"},
                    "own max|g| per worker, or the max over the workers (one max-reduction)") ==
      "shared";
  packing_ = ParseTritPacking(
      params.Choice("packing", "2bit", {"2bit", "base3"}, "2 bits per trit, or 5 trits per byte"));
  spec_ = params.Canonical();
}

double TernGradQuantizer::ClipThreshold(const arma::fvec& g, std::size_t* clipped) const {
  std::size_t count = 0;
  double threshold = std::numeric_limits<double>::infinity();
  if (clip_ > 0 && g.n_elem > 0) {
    // Mean and variance summed in index order, as the wire's clipping depends on them.
    double mean = 0.0;
    for (float x : g) mean += static_cast<double>(x);
    mean /= static_cast<double>(g.n_elem);
    double var = 0.0;
    for (float x : g) var += (static_cast<double>(x) - mean) * (static_cast<double>(x) - mean);
    threshold = clip_ * std::sqrt(var / static_cast<double>(g.n_elem));
    for (float x : g) count += std::fabs(static_cast<double>(x)) > threshold ? 1 : 0;
  }
  if (clipped) *clipped = count;
  return threshold;
}

std::vector<float> TernGradQuantizer::OwnScales(const arma::fvec& g, double threshold) const {
  const SlabPlan plan(g.n_elem, bucket_);
  std::vector<float> scales(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    // max |g_c| over the clipped values: max |g| (exact in float), capped at the threshold.
    const double m = MaxAbs(g.memptr() + b0, b1 - b0);
    scales[k] = RoundUpToFloat(clip_ > 0 && m > threshold ? threshold : m);
  });
  return scales;
}

std::vector<float> TernGradQuantizer::SharedScales(const std::vector<arma::fvec>& slabs) const {
  std::vector<float> shared;
  for (const auto& g : slabs) {
    const std::vector<float> own = OwnScales(g, ClipThreshold(g, nullptr));
    if (shared.empty()) shared.assign(own.size(), 0.0f);
    for (std::size_t b = 0; b < own.size(); ++b) shared[b] = std::max(shared[b], own[b]);
  }
  return shared;
}

Message TernGradQuantizer::EncodeWith(const arma::fvec& g, double threshold,
                                      const std::vector<float>& scales, std::size_t clipped,
                                      const SlabContext& ctx, SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  // Pieces inside a bucket must start on a whole base-3 byte: 5 trits.
  const SlabPlan plan(g.n_elem, bucket_, kPieceGrain - kPieceGrain % 5);
  SymbolCounts counts(3, stats ? g.n_elem : 0);
  Message m = EncodePlan(plan, [&](std::size_t, const Segment& seg, BitWriter& w) {
    const float scale = scales.at(seg.bucket);
    if (seg.head) w.PutFloat32(scale);
    std::uint32_t words[kBlock], digits[kBlock];
    std::int8_t trits[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      if (scale > 0) {
        rng.Words(c, len, words);
        kernels::TernaryDigits(g.memptr() + c, words, len, static_cast<double>(scale), clip_ > 0,
                               threshold, digits);
      } else {
        std::fill(digits, digits + len, 1u);
      }
      if (packing_ == TritPacking::kTwoBit) {
        w.PutFixed(digits, len, 2);
      } else {
        for (std::size_t i = 0; i < len; ++i) trits[i] = static_cast<std::int8_t>(digits[i]) - 1;
        PutTrits(w, trits, len, packing_);
      }
      if (stats) counts.Add(c, digits, len);
    }
  });
  if (stats && g.n_elem > 0) {
    const double n = static_cast<double>(g.n_elem);
    (*stats)[stat::kBitsEntropy] = counts.EntropyBits() + 32.0 * scales.size();
    (*stats)["nnz_frac"] = static_cast<double>(counts.Count(0) + counts.Count(2)) / n;
    if (clip_ > 0) (*stats)["clip_frac"] = static_cast<double>(clipped) / n;
  }
  return m;
}

Message TernGradQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                  SlabStats* stats) const {
  std::size_t clipped = 0;
  const double threshold = ClipThreshold(g, &clipped);
  return EncodeWith(g, threshold, OwnScales(g, threshold), clipped, ctx, stats);
}

std::vector<Message> TernGradQuantizer::EncodeGroup(const std::vector<arma::fvec>& slabs,
                                                    const SlabContext& ctx,
                                                    SlabStats* stats) const {
  if (!shared_) return Quantizer::EncodeGroup(slabs, ctx, stats);
  // The max-reduction of one float per bucket that precedes encoding.
  const std::vector<float> scales = SharedScales(slabs);
  std::vector<Message> out(slabs.size());
  std::vector<SlabStats> perWorker(slabs.size());
  for (std::size_t w = 0; w < slabs.size(); ++w) {
    std::size_t clipped = 0;
    const double threshold = ClipThreshold(slabs[w], &clipped);
    out[w] =
        EncodeWith(slabs[w], threshold, scales, clipped,
                   ctx.ForWorker(static_cast<std::uint32_t>(w)), stats ? &perWorker[w] : nullptr);
  }
  AddMeanStats(perWorker, stats);
  return out;
}

arma::fvec TernGradQuantizer::DecodeScaled(const Message& message, const SlabContext& ctx,
                                           std::vector<float>* scales) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, bucket_, kPieceGrain - kPieceGrain % 5);
  PlanReader reader(
      r, plan, [&](const Segment& s) { return (s.head ? 32 : 0) + TritBits(s.Size(), packing_); });
  std::vector<float> heads = reader.PeekFloatHeaders();
  scales->assign(plan.Buckets(), 0.0f);
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    const auto [b0, b1] = plan.BucketRange(seg.bucket);
    float scale;
    if (seg.head) {
      scale = in.GetFloat32();
      if (!(scale >= 0.0f) || !std::isfinite(scale)) {
        in.Fail("bucket scale is not a finite value >= 0");
      }
      CheckTrits(in, b1 - b0, packing_);  // the whole bucket first, as one GetTrits would
      (*scales)[seg.bucket] = scale;
      if (!reader.Parallel()) heads[seg.bucket] = scale;
    } else {
      scale = heads[seg.bucket];
    }
    std::int8_t trits[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      GetTrits(in, trits, len, packing_, c - b0);
      if (scale == 0.0f && std::any_of(trits, trits + len, [](std::int8_t t) { return t; })) {
        in.Fail("non-zero trit in a bucket with scale 0");
      }
      float* dst = out.memptr() + c;
      for (std::size_t i = 0; i < len; ++i) dst[i] = scale * trits[i];
    }
  });
  r.ExpectEnd();
  return out;
}

arma::fvec TernGradQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  std::vector<float> scales;
  return DecodeScaled(message, ctx, &scales);
}

GroupResult TernGradQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                           const SlabContext& ctx) const {
  GroupResult out;
  const std::size_t workers = messages.size();
  out.workers.resize(workers);
  // Decoded in parallel; errors are raised in worker order below, as a sequential loop would.
  std::vector<std::vector<float>> scales(workers);
  std::vector<std::exception_ptr> errors(workers);
  ParallelFor(workers, [&](std::size_t w) {
    try {
      out.workers[w] =
          DecodeScaled(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)), &scales[w]);
    } catch (...) {
      errors[w] = std::current_exception();
    }
  });
  for (std::size_t w = 0; w < workers; ++w) {
    const SlabContext wctx = ctx.ForWorker(static_cast<std::uint32_t>(w));
    if (errors[w]) std::rethrow_exception(errors[w]);
    if (shared_ && scales[w] != scales[0]) {
      throw FormatError("message " + MessageName(spec_, wctx) +
                        ": its scale differs from worker 0's under scale=shared");
    }
    out.downlinkBits += messages[w].bits;  // own scales: the relay of every message
  }
  out.aggregate = MeanByDivision(out.workers);
  if (shared_) {
    // Per bucket the shared scale, then each coordinate's integer sum in {-N..N}.
    const int width = CeilLog2(2 * static_cast<std::uint64_t>(messages.size()) + 1);
    out.downlinkBits = 32 * scales[0].size() + static_cast<std::uint64_t>(width) * ctx.layer->n;
  }
  return out;
}

double TernGradQuantizer::ExactError(const arma::fvec& g, const std::vector<float>& scales) const {
  const double threshold = ClipThreshold(g, nullptr);
  const bool clip = clip_ > 0;
  double exact = 0.0;
  std::size_t k = 0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    const double s = scales.at(k++);
    for (std::size_t i = b0; i < b1; ++i) {
      const double x = static_cast<double>(g[i]);
      const double c = clip && std::fabs(x) > threshold ? std::copysign(threshold, x) : x;
      const double a = std::fabs(c), clipError = x - c;
      exact += s * a - a * a + clipError * clipError;
    }
  }
  return exact;
}

Theory TernGradQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  if (shared_) return t;  // depends on the other workers' scales: see Diagnose
  const double threshold = ClipThreshold(g, nullptr);
  const bool clip = clip_ > 0;
  t.exact = ExactError(g, OwnScales(g, threshold));
  t.bound = 0.0;
  for (const auto& [b0, b1] : Buckets(g.n_elem, bucket_)) {
    double norm2 = 0.0, clipSq = 0.0;
    for (std::size_t i = b0; i < b1; ++i) {
      const double x = static_cast<double>(g[i]);
      const double c = clip && std::fabs(x) > threshold ? std::copysign(threshold, x) : x;
      const double clipError = x - c;
      norm2 += c * c;
      clipSq += clipError * clipError;
    }
    t.bound += (std::sqrt(static_cast<double>(b1 - b0)) - 1.0) * norm2 + clipSq;
  }
  return t;
}

void TernGradQuantizer::Diagnose(const std::vector<arma::fvec>& truth, const GroupResult&,
                                 const SlabContext&, SlabStats* stats) const {
  if (!shared_ || !stats || truth.empty()) return;
  const std::vector<float> scales = SharedScales(truth);
  double exact = 0.0, norm2 = 0.0;
  for (const auto& g : truth) {
    exact += ExactError(g, scales);
    norm2 += arma::accu(arma::square(arma::conv_to<arma::vec>::from(g)));
  }
  if (norm2 > 0) (*stats)["nmse_theory_shared"] = exact / norm2;
}

}  // namespace gradquant
