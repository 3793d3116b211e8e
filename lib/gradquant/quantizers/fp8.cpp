#include "gradquant/quantizers/fp8.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/scale.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per batch (stack buffers)
constexpr int kCodeBits = 8;

// t_i = g_i/σ in double (σ > 0): the cast's input, see the file comment.
void Quotients(const float* g, std::size_t n, float scale, double* t) {
  const double s = static_cast<double>(scale);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<double>(g[i]) / s;
}

// The reconstruction of a block of codes under scale σ: float32(σ·v), one rounding (the exact
// product of a float32 and a value of at most 4 significant bits, rounded once).
bool Reconstruct(FloatFormat f, const std::uint32_t* codes, std::size_t n, float scale,
                 float* out) {
  const bool ok = FormatValues(f, codes, n, out);
  for (std::size_t i = 0; i < n; ++i) out[i] *= scale;
  return ok;
}

// The nonzero g_i of a block sent as ±0 (a zero magnitude code) and their Σ g_i², in order.
CastCounts Flushed(const float* g, const std::uint32_t* codes, std::size_t n) {
  CastCounts out;
  for (std::size_t i = 0; i < n; ++i) {
    if ((codes[i] & 0x7Fu) == 0 && g[i] != 0.0f) {
      ++out.underflow;
      out.underflowEnergy += static_cast<double>(g[i]) * static_cast<double>(g[i]);
    }
  }
  return out;
}

}  // namespace

Fp8Quantizer::Fp8Quantizer(Params& params)
    : format_(params.Choice("format", "e4m3", {"e4m3", "e5m2"},
                            "OCP FP8 layout: e4m3 (bias 7, max 448, no inf) or e5m2 (bias 15, "
                            "max 57344, IEEE-like)") == "e5m2"
                  ? kFloat8E5m2
                  : kFloat8E4m3),
      bucket_(static_cast<std::size_t>(
          params.Int("bucket", 0, 0, std::int64_t{1} << 40,
                     "coordinates per bucket with its own float32 scale (0 = whole slab)"))),
      stochastic_(params.Choice("rounding", "nearest", {"nearest", "stochastic"},
                                "nearest-even, or stochastic rounding between the two "
                                "neighbours (unbiased)") == "stochastic"),
      spec_(params.Canonical()) {}

std::vector<float> Fp8Quantizer::Scales(const arma::fvec& g) const {
  const SlabPlan plan(g.n_elem, bucket_);
  const double top = MaxFinite(format_);
  std::vector<float> scales(plan.Buckets());
  ForEachBucket(plan, [&](std::size_t k) {
    const auto [b0, b1] = plan.BucketRange(k);
    scales[k] = StepForMax(MaxAbs(g.memptr() + b0, b1 - b0), top);  // σ·F >= m, exactly
  });
  return scales;
}

Message Fp8Quantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const SlabPlan plan(g.n_elem, bucket_);
  const std::vector<float> scales = Scales(g);
  std::vector<CastCounts> pieces(stats ? plan.Pieces() : 0);
  Message m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
    const float scale = scales[seg.bucket];
    if (seg.head) w.PutFloat32(scale);
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      const float* x = g.memptr() + c;
      if (scale > 0) {
        double t[kBlock];
        Quotients(x, len, scale, t);
        if (stochastic_) {
          std::uint32_t words[kBlock];
          rng.Words(c, len, words);  // U_i = words[i]·2^-32 = Uniform(c + i)
          StochasticCodes(format_, t, words, len, codes, nullptr);
        } else {
          NearestCodes(format_, t, len, codes, nullptr);
        }
      } else {
        std::fill(codes, codes + len, 0u);
      }
      if (stats) pieces[p] += Flushed(x, codes, len);
      w.PutFixed(codes, len, kCodeBits);
    }
  });
  if (stats) {
    CastCounts total;
    for (const CastCounts& c : pieces) total += c;  // in piece order: thread-count free
    (*stats)["underflow"] = static_cast<double>(total.underflow);
    (*stats)["underflow_energy"] = total.underflowEnergy;
  }
  return m;
}

arma::fvec Fp8Quantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, bucket_);
  PlanReader reader(r, plan, [](const Segment& s) {
    return (s.head ? 32 : 0) + std::uint64_t{kCodeBits} * s.Size();
  });
  std::vector<float> scales = reader.PeekFloatHeaders();
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    const float scale = reader.BucketScale(seg, in, kCodeBits, "scale", scales);
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      in.GetFixed(codes, len, kCodeBits);
      if (!Reconstruct(format_, codes, len, scale, out.memptr() + c)) in.Fail("a NaN or inf code");
      if (scale == 0.0f && std::any_of(codes, codes + len, [](std::uint32_t v) { return v; })) {
        in.Fail("non-zero code in a bucket with scale 0");
      }
    }
  });
  r.ExpectEnd();
  return out;
}

Theory Fp8Quantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  const SlabPlan plan(g.n_elem, bucket_);
  const std::vector<float> scales = Scales(g);
  Theory t;
  t.exact = 0.0;
  plan.ForEachSegment([&](const Segment& seg) {
    const float scale = scales[seg.bucket];
    if (scale == 0.0f) return;  // an all-zero bucket is sent exactly
    double q[kBlock];
    std::uint32_t codes[kBlock];
    float values[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      const float* x = g.memptr() + c;
      Quotients(x, len, scale, q);
      if (stochastic_) {
        for (std::size_t i = 0; i < len; ++i) {
          const StochasticChoice choice = StochasticCastChoice(format_, q[i]);
          float lo = 0.0f, hi = 0.0f;
          FormatValue(format_, choice.lo, &lo);
          FormatValue(format_, choice.hi, &hi);
          const double dLo = static_cast<double>(scale * lo) - x[i];
          const double dHi = static_cast<double>(scale * hi) - x[i];
          t.exact += choice.up * dHi * dHi + (1.0 - choice.up) * dLo * dLo;
        }
        continue;
      }
      // Nearest is deterministic: the error of the cast itself, through the block kernels.
      NearestCodes(format_, q, len, codes, nullptr);
      Reconstruct(format_, codes, len, scale, values);
      for (std::size_t i = 0; i < len; ++i) {
        const double e = static_cast<double>(values[i]) - static_cast<double>(x[i]);
        t.exact += e * e;
      }
    }
  });
  return t;
}

}  // namespace gradquant
