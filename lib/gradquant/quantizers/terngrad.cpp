#include "gradquant/quantizers/terngrad.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/entropy.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/scale.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = 4096;  // uniforms generated per batch

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

std::vector<double> TernGradQuantizer::Clipped(const arma::fvec& g, std::size_t* clipped) const {
  std::vector<double> gc(g.begin(), g.end());
  std::size_t count = 0;
  if (clip_ > 0 && !gc.empty()) {
    double mean = 0.0;
    for (double x : gc) mean += x;
    mean /= static_cast<double>(gc.size());
    double var = 0.0;
    for (double x : gc) var += (x - mean) * (x - mean);
    const double threshold = clip_ * std::sqrt(var / static_cast<double>(gc.size()));
    for (double& x : gc) {
      if (std::fabs(x) > threshold) {
        x = std::copysign(threshold, x);
        ++count;
      }
    }
  }
  if (clipped) *clipped = count;
  return gc;
}

std::vector<float> TernGradQuantizer::OwnScales(const std::vector<double>& gc) const {
  std::vector<float> scales;
  for (const auto& [b0, b1] : Buckets(gc.size(), bucket_)) {
    double m = 0.0;
    for (std::size_t i = b0; i < b1; ++i) m = std::max(m, std::fabs(gc[i]));
    scales.push_back(RoundUpToFloat(m));
  }
  return scales;
}

std::vector<float> TernGradQuantizer::SharedScales(const std::vector<arma::fvec>& slabs) const {
  std::vector<float> shared;
  for (const auto& g : slabs) {
    const std::vector<float> own = OwnScales(Clipped(g, nullptr));
    if (shared.empty()) shared.assign(own.size(), 0.0f);
    for (std::size_t b = 0; b < own.size(); ++b) shared[b] = std::max(shared[b], own[b]);
  }
  return shared;
}

Message TernGradQuantizer::EncodeWith(const std::vector<double>& gc,
                                      const std::vector<float>& scales, std::size_t clipped,
                                      const SlabContext& ctx, SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  std::vector<std::int8_t> trits(gc.size(), 0);
  double u[kChunk];
  BitWriter w;
  std::size_t k = 0;
  for (const auto& [b0, b1] : Buckets(gc.size(), bucket_)) {
    const float scale = scales.at(k++);
    w.PutFloat32(scale);
    if (scale > 0) {
      const double s = static_cast<double>(scale);
      for (std::size_t c = b0; c < b1; c += kChunk) {
        const std::size_t len = std::min(kChunk, b1 - c);
        rng.Uniforms(c, len, u);
        for (std::size_t i = 0; i < len; ++i) {
          const double x = gc[c + i];
          // |x| <= s by the rounding of s, so p <= 1; x = 0 gives p = 0 and never fires.
          if (u[i] < std::fabs(x) / s) trits[c + i] = x < 0 ? -1 : 1;
        }
      }
    }
    PutTrits(w, trits.data() + b0, b1 - b0, packing_);
  }
  if (stats && !gc.empty()) {
    std::vector<std::uint32_t> digits(gc.size());
    std::size_t nnz = 0;
    for (std::size_t i = 0; i < gc.size(); ++i) {
      digits[i] = static_cast<std::uint32_t>(trits[i] + 1);
      nnz += trits[i] != 0;
    }
    (*stats)["bits_entropy"] =
        EmpiricalEntropyBits(digits.data(), digits.size(), 3) + 32.0 * scales.size();
    (*stats)["nnz_frac"] = static_cast<double>(nnz) / gc.size();
    if (clip_ > 0) (*stats)["clip_frac"] = static_cast<double>(clipped) / gc.size();
  }
  return w.Finish();
}

Message TernGradQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                  SlabStats* stats) const {
  std::size_t clipped = 0;
  const std::vector<double> gc = Clipped(g, &clipped);
  return EncodeWith(gc, OwnScales(gc), clipped, ctx, stats);
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
    const std::vector<double> gc = Clipped(slabs[w], &clipped);
    out[w] = EncodeWith(gc, scales, clipped, ctx.ForWorker(static_cast<std::uint32_t>(w)),
                        &perWorker[w]);
  }
  AddMeanStats(perWorker, stats);
  return out;
}

arma::fvec TernGradQuantizer::DecodeScaled(const Message& message, const SlabContext& ctx,
                                           std::vector<float>* scales) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n);
  std::vector<std::int8_t> trits;
  scales->clear();
  for (const auto& [b0, b1] : Buckets(out.n_elem, bucket_)) {
    const float scale = r.GetFloat32();
    if (!(scale >= 0.0f) || !std::isfinite(scale))
      r.Fail("bucket scale is not a finite value >= 0");
    scales->push_back(scale);
    trits.resize(b1 - b0);
    GetTrits(r, trits.data(), trits.size(), packing_);
    if (scale == 0.0f && std::any_of(trits.begin(), trits.end(), [](std::int8_t t) { return t; })) {
      r.Fail("non-zero trit in a bucket with scale 0");
    }
    for (std::size_t i = 0; i < trits.size(); ++i) out[b0 + i] = scale * trits[i];
  }
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
  out.workers.resize(messages.size());
  arma::vec sum(ctx.layer->n, arma::fill::zeros);
  std::vector<float> scales, first;
  for (std::size_t w = 0; w < messages.size(); ++w) {
    const SlabContext wctx = ctx.ForWorker(static_cast<std::uint32_t>(w));
    out.workers[w] = DecodeScaled(messages[w], wctx, &scales);
    if (w == 0) first = scales;
    if (shared_ && scales != first) {
      throw FormatError("message " + MessageName(spec_, wctx) +
                        ": its scale differs from worker 0's under scale=shared");
    }
    sum += arma::conv_to<arma::vec>::from(out.workers[w]);
    out.downlinkBits += messages[w].bits;  // own scales: the relay of every message
  }
  out.aggregate = arma::conv_to<arma::fvec>::from(sum / static_cast<double>(messages.size()));
  if (shared_) {
    // Per bucket the shared scale, then each coordinate's integer sum in {-N..N}.
    const int width = CeilLog2(2 * static_cast<std::uint64_t>(messages.size()) + 1);
    out.downlinkBits = 32 * first.size() + static_cast<std::uint64_t>(width) * ctx.layer->n;
  }
  return out;
}

double TernGradQuantizer::ExactError(const arma::fvec& g, const std::vector<float>& scales) const {
  const std::vector<double> gc = Clipped(g, nullptr);
  double exact = 0.0;
  std::size_t k = 0;
  for (const auto& [b0, b1] : Buckets(gc.size(), bucket_)) {
    const double s = scales.at(k++);
    for (std::size_t i = b0; i < b1; ++i) {
      const double a = std::fabs(gc[i]), clipError = static_cast<double>(g[i]) - gc[i];
      exact += s * a - a * a + clipError * clipError;
    }
  }
  return exact;
}

Theory TernGradQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  if (shared_) return t;  // depends on the other workers' scales: see Diagnose
  const std::vector<double> gc = Clipped(g, nullptr);
  t.exact = ExactError(g, OwnScales(gc));
  t.bound = 0.0;
  for (const auto& [b0, b1] : Buckets(gc.size(), bucket_)) {
    double norm2 = 0.0, clipSq = 0.0;
    for (std::size_t i = b0; i < b1; ++i) {
      const double clipError = static_cast<double>(g[i]) - gc[i];
      norm2 += gc[i] * gc[i];
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
