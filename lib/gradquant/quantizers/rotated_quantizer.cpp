#include "gradquant/quantizers/rotated_quantizer.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <memory>

#include "gradquant/coding/bit_pack.hpp"
#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/random_rotation.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // codes per batch (stack buffers); a multiple of 8
constexpr std::size_t kLanes = 8;

std::size_t Pieces(std::size_t d) {
  return std::max<std::size_t>(1, (d + kPieceGrain - 1) / kPieceGrain);
}

// q_i = #{j < count : y_i >= t_j} by comparisons, for the small codebooks (count <= 15).
template <std::size_t kCount>
inline __attribute__((always_inline)) void CountAbove(const float* y, std::size_t n, const float* t,
                                                      std::uint32_t* q) {
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t c = 0;
    for (std::size_t j = 0; j < kCount; ++j) c += y[i] >= t[j] ? 1u : 0u;
    q[i] = c;
  }
}

// The small codebooks' counts in one multiversioned entry point (clang cannot multiversion a
// template); false for another count.
__attribute__((target_clones("avx2", "default"))) bool CountCodes(const float* y, std::size_t n,
                                                                  const float* t, std::size_t count,
                                                                  std::uint32_t* q) {
  switch (count) {
    case 1:
      CountAbove<1>(y, n, t, q);
      return true;
    case 3:
      CountAbove<3>(y, n, t, q);
      return true;
    case 7:
      CountAbove<7>(y, n, t, q);
      return true;
    case 15:
      CountAbove<15>(y, n, t, q);
      return true;
    default:
      return false;
  }
}

// The same count for any codebook: a uniform grid over the thresholds tells where to start
// (a count no larger than the true one, by a cell's margin), a short scan finishes it.
class ThresholdSearch {
 public:
  // t: the increasing thresholds followed by +inf.
  explicit ThresholdSearch(const std::vector<float>& t) : t_(t) {
    const std::size_t count = t.size() - 1;
    double gap = std::numeric_limits<double>::infinity();
    for (std::size_t j = 1; j < count; ++j) {
      const double g = static_cast<double>(t[j]) - t[j - 1];
      if (g > 0) gap = std::min(gap, g);
    }
    const double span = static_cast<double>(t[count - 1]) - t[0];
    double width = std::isinf(gap) ? 1.0 : gap / 4;
    width = std::max(width, span / 60000);
    lo_ = static_cast<float>(t[0] - width);
    invWidth_ = static_cast<float>(1.0 / width);
    const std::size_t cells = static_cast<std::size_t>(std::ceil(span / width)) + 3;
    start_.resize(cells);
    for (std::size_t c = 0; c < cells; ++c) {
      const double below = static_cast<double>(lo_) + (static_cast<double>(c) - 1) * width;
      start_[c] = static_cast<std::uint32_t>(
          std::lower_bound(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(count), below) -
          t.begin());
    }
  }

  void Codes(const float* y, std::size_t n, std::uint32_t* q) const {
    const float top = static_cast<float>(start_.size() - 1);
    for (std::size_t i = 0; i < n; ++i) {
      const float f = (y[i] - lo_) * invWidth_;
      const std::size_t cell = f >= 1.0f ? static_cast<std::size_t>(std::min(f, top)) : 0;
      // A cell spans a quarter of the smallest gap, so at most one threshold lies between the
      // start and y: two steps without a branch, then a loop that almost never runs (equal
      // thresholds). t_ ends with +inf.
      std::uint32_t k = start_[cell];
      k += y[i] >= t_[k] ? 1u : 0u;
      k += y[i] >= t_[k] ? 1u : 0u;
      while (y[i] >= t_[k]) ++k;
      q[i] = k;
    }
  }

 private:
  const std::vector<float>& t_;
  float lo_, invWidth_;
  std::vector<std::uint32_t> start_;
};

// Σ y_i·v_i and Σ v_i² (v_i = ℓ(q_i)), each in eight lanes by i mod 8 (n a multiple of 8, or
// the end of a piece).
__attribute__((target_clones("avx2", "default"))) void AddProducts(const float* y, const float* v,
                                                                   std::size_t n, double* p,
                                                                   double* c) {
  double lp[kLanes], lc[kLanes];  // locals: the compiler keeps them in registers
  std::copy(p, p + kLanes, lp);
  std::copy(c, c + kLanes, lc);
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const double l = v[i + j];
      lp[j] += static_cast<double>(y[i + j]) * l;
      lc[j] += l * l;
    }
  }
  for (; i < n; ++i) {
    const double l = v[i];
    lp[i % kLanes] += static_cast<double>(y[i]) * l;
    lc[i % kLanes] += l * l;
  }
  std::copy(lp, lp + kLanes, p);
  std::copy(lc, lc + kLanes, c);
}

double LaneTotal(const double* lanes) {
  double sum = 0.0;
  for (std::size_t j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

}  // namespace

RotatedQuantizer::RotatedQuantizer(Params& params, RotatedCodebook codebook)
    : book_(std::move(codebook)),
      scale_(params.Choice("scale", "unbiased", {"unbiased", "mse"},
                           "S = ||x||^2/<Rx, levels> (the projection on x exact: unbiased over a "
                           "uniform rotation) or the least-squares S (biased, less error)") == "mse"
                 ? RotatedScale::kMse
                 : RotatedScale::kUnbiased),
      spec_(params.Canonical()) {}

float RotatedQuantizer::ScaleOf(double normSq, double p, double c, std::size_t d,
                                int exponent) const {
  if (!(p > 0)) return 0.0f;
  const double root = std::sqrt(static_cast<double>(d));
  const double s =
      std::ldexp(scale_ == RotatedScale::kUnbiased ? normSq * root / p : p / (root * c), exponent);
  return static_cast<float>(std::min(s, double{FLT_MAX}));
}

Message RotatedQuantizer::ZeroMessage(std::size_t d) const {
  BitWriter w;
  w.PutFloat32(0.0f);
  std::uint32_t codes[kBlock];
  std::fill(codes, codes + kBlock, book_.zeroCode);
  for (std::size_t c = 0; c < d; c += kBlock)
    w.PutFixed(codes, std::min(kBlock, d - c), book_.bits);
  return w.Finish();
}

Message RotatedQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                 SlabStats* stats) const {
  const RandomRotation rotation(g.n_elem, ctx.Key());
  const std::size_t d = rotation.D();
  if (stats) {
    (*stats)["pad_frac"] = g.n_elem ? static_cast<double>(d - g.n_elem) / g.n_elem : 0.0;
  }
  if (d == 0) return ZeroMessage(0);
  // From malloc, not Armadillo: glibc's aligned allocations of this size fault in fresh pages
  // on every call even when freed memory is kept (core/memory.hpp).
  const std::unique_ptr<float[]> y(new float[d]);  // every value is written by the rotation
  const RotatedSlab r = rotation.Forward(g.memptr(), y.get());
  return book_.thresholds.empty() ? EncodeSigns(y.get(), d, r.normSq, r.exponent)
                                  : EncodeLevels(y.get(), d, r.normSq, r.exponent);
}

Message RotatedQuantizer::EncodeSigns(const float* y, std::size_t d, double normSq,
                                      int exponent) const {
  // Levels +1 (code 0) and −1 (code 1): P = Σ|y_i|, C = d.
  const float s = ScaleOf(normSq, SumAbsFixedOrder(y, d), static_cast<double>(d), d, exponent);
  if (s == 0.0f) return ZeroMessage(d);
  std::vector<std::uint64_t> words((d + 63) / 64);
  SplitFor(Pieces(d), [&](std::size_t p) {
    const std::size_t b = p * kPieceGrain;
    PackSignBits(y + b, std::min(kPieceGrain, d - b), false, words.data() + b / 64);
  });
  BitWriter w;
  w.PutFloat32(s);
  w.PutWords(words.data(), d);
  return w.Finish();
}

Message RotatedQuantizer::EncodeLevels(const float* y, std::size_t d, double normSq,
                                       int exponent) const {
  const double norm = std::sqrt(normSq);
  std::vector<float> t(book_.thresholds.size() + 1, std::numeric_limits<float>::infinity());
  for (std::size_t j = 0; j < book_.thresholds.size(); ++j) {
    t[j] = static_cast<float>(book_.thresholds[j] * norm);
  }
  const ThresholdSearch search(t);
  const std::size_t pieces = Pieces(d);
  std::vector<Message> parts(pieces);
  std::vector<double> pSum(pieces), cSum(pieces);
  SplitFor(pieces, [&](std::size_t piece) {
    const std::size_t begin = piece * kPieceGrain, end = std::min(d, begin + kPieceGrain);
    double p[kLanes] = {}, c[kLanes] = {};
    std::uint32_t codes[kBlock];
    float values[kBlock];
    BitWriter w;
    for (std::size_t i = begin; i < end; i += kBlock) {
      const std::size_t len = std::min(kBlock, end - i);
      if (!CountCodes(y + i, len, t.data(), t.size() - 1, codes)) search.Codes(y + i, len, codes);
      kernels::Lookup(codes, len, book_.levels.data(), book_.levels.size(), values);
      AddProducts(y + i, values, len, p, c);
      w.PutFixed(codes, len, book_.bits);
    }
    parts[piece] = w.Finish();
    pSum[piece] = LaneTotal(p);
    cSum[piece] = LaneTotal(c);
  });
  double p = 0.0, c = 0.0;
  for (std::size_t k = 0; k < pieces; ++k) {  // in piece order: thread-count free
    p += pSum[k];
    c += cSum[k];
  }
  const float s = ScaleOf(normSq, p, c, d, exponent);
  if (s == 0.0f) return ZeroMessage(d);
  BitWriter w;
  w.PutFloat32(s);
  w.Reserve(static_cast<std::uint64_t>(d) * static_cast<std::uint64_t>(book_.bits));
  for (const Message& part : parts) w.Append(part);
  return w.Finish();
}

arma::fvec RotatedQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const float s = r.GetFloat32();
  if (!(s >= 0.0f) || !std::isfinite(s)) r.Fail("scale is not a finite value >= 0");
  const RandomRotation rotation(ctx.layer->n, ctx.Key());
  const std::size_t d = rotation.D();
  const int bits = book_.bits;
  r.CheckFixed(d, bits);  // every code is there: the blocks below read them in any order
  const std::uint64_t at = r.Position();
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  if (s == 0.0f) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = 0; c < d; c += kBlock) {
      const std::size_t len = std::min(kBlock, d - c);
      r.PeekFixed(at + c * bits, codes, len, bits);
      if (std::any_of(codes, codes + len, [&](std::uint32_t q) { return q != book_.zeroCode; })) {
        r.Fail("scale 0 with a code other than the zero code");
      }
    }
    out.zeros();
  } else {
    const std::unique_ptr<float[]> y(new float[d]);  // every value is written by the fill
    const bool signs = book_.thresholds.empty();
    rotation.Inverse(y.get(), static_cast<double>(s) / std::sqrt(static_cast<double>(d)),
                     out.memptr(), [&](std::size_t first, std::size_t count) {
                       float* dst = y.get() + first;
                       if (signs) {
                         UnpackBitsAsFloats(message.bytes.data(), message.bytes.size(), at + first,
                                            count, -1.0f, 1.0f, dst);
                         return;
                       }
                       std::uint32_t codes[kBlock];
                       for (std::size_t c = 0; c < count; c += kBlock) {
                         const std::size_t len = std::min(kBlock, count - c);
                         r.PeekFixed(at + (first + c) * bits, codes, len, bits);
                         kernels::Lookup(codes, len, book_.levels.data(), book_.levels.size(),
                                         dst + c);
                       }
                     });
  }
  r.Skip(static_cast<std::uint64_t>(d) * static_cast<std::uint64_t>(bits));
  r.ExpectEnd();
  return out;
}

Theory RotatedQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  const double normSq = SumSquaresFixedOrder(g.memptr(), g.n_elem);
  if (!std::isfinite(normSq)) return t;
  if (normSq == 0.0 || g.n_elem == 1) {
    t.exact = 0.0;
    return t;
  }
  // The model (docs/quantizers.md#drive): rotated coordinates i.i.d. Gaussian, the error's
  // part orthogonal to x spread evenly over the d − 1 directions orthogonal to x.
  const double n = static_cast<double>(g.n_elem);
  const double d = static_cast<double>(NextPowerOfTwo(g.n_elem));
  const double kept = (n - 1) / (d - 1), dist = book_.distortion;
  t.approx = scale_ == RotatedScale::kUnbiased ? normSq * kept * dist / (1 - dist)
                                               : normSq * (dist * dist + kept * dist * (1 - dist));
  return t;
}

}  // namespace gradquant
