#include "gradquant/quantizers/natural.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/float_bits.hpp"
#include "gradquant/quantizers/simd_kernels.hpp"
#include "gradquant/quantizers/slab_plan.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per generator batch (stack buffers)
constexpr std::uint32_t kMaxField = 254;
constexpr std::uint32_t kMantissaMask = 0x7FFFFFu;

// E||C(t) - t||^2 and its bound, for one finite t.
void CoordinateTheory(float t, double* exact, double* bound) {
  if (!std::isfinite(t)) {  // inf and NaN are flushed: an infinite error either way
    *exact = *bound = std::numeric_limits<double>::infinity();
    return;
  }
  const std::uint32_t bits = FloatBits(t);
  const int field = static_cast<int>((bits >> 23) & 0xFFu);
  const double a = std::fabs(static_cast<double>(t));
  if (field == static_cast<int>(kMaxField)) {  // rounding up is flushed: always 2^127
    const double e = a - std::ldexp(1.0, 127);
    *exact += e * e;
    *bound += e * e;
    return;
  }
  const double low = field == 0 ? 0.0 : std::ldexp(1.0, field - 127);
  const double high = std::ldexp(1.0, field + 1 - 127);
  *exact += (high - a) * (a - low);
  *bound += field == 0 ? std::ldexp(1.0, -254) : a * a / 8.0;
}

// NaturalValue for a block; the largest field is 255 iff some code has it (then no output).
__attribute__((target_clones("avx2", "default"))) std::uint32_t ValueBlock(
    const std::uint32_t* codes, std::size_t n, float* out) {
  std::uint32_t worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t code = codes[i];
    out[i] = BitsFloat((code >> 8) << 31 | (code & 0xFFu) << 23);
    worst = std::max(worst, code & 0xFFu);
  }
  return worst;
}

}  // namespace

std::uint32_t NaturalCode(float t, double u, bool* flushed) {
  const std::uint32_t bits = FloatBits(t);
  const std::uint32_t sign = bits >> 31;
  std::uint32_t field = (bits >> 23) & 0xFFu;
  const std::uint32_t mantissa = bits & kMantissaMask;
  if (field == 0xFFu) {  // inf -> the largest power of two; NaN -> 0
    *flushed = true;
    return mantissa == 0 ? (sign << 8 | kMaxField) : 0;
  }
  // |t| = 2^a (1 + m/2^23) for normals and m 2^-149 for subnormals: in both cases the
  // probability of rounding up to the next field is m/2^23, exact in double.
  if (u < std::ldexp(static_cast<double>(mantissa), -23)) {
    if (field == kMaxField) {
      *flushed = true;
    } else {
      ++field;
    }
  }
  return sign << 8 | field;
}

float NaturalValue(std::uint32_t code) {
  return BitsFloat((code >> 8) << 31 | (code & 0xFFu) << 23);
}

NaturalQuantizer::NaturalQuantizer(Params& params) : spec_(params.Canonical()) {}

Message NaturalQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                 SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const SlabPlan plan(g.n_elem, 0);
  std::vector<std::size_t> flushed(plan.Pieces(), 0), subnormal(plan.Pieces(), 0);
  Message m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
    std::uint32_t words[kBlock], codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      rng.Words(c, len, words);
      std::uint32_t tiny = 0;
      flushed[p] += kernels::NaturalCodes(g.memptr() + c, words, len, codes, &tiny);
      subnormal[p] += tiny;
      w.PutFixed(codes, len, 9);
    }
  });
  if (stats) {
    std::size_t flushedAll = 0, subnormalAll = 0;
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {
      flushedAll += flushed[p];
      subnormalAll += subnormal[p];
    }
    (*stats)["flushed"] = static_cast<double>(flushedAll);
    (*stats)["subnormal"] = static_cast<double>(subnormalAll);
  }
  return m;
}

arma::fvec NaturalQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return 9 * std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t want = std::min(kBlock, seg.end - c);
      // A short message: the whole codes there are, then the next Get fails as it would alone.
      const std::size_t len = std::min<std::uint64_t>(want, in.Remaining() / 9);
      in.GetFixed(codes, len, 9);
      if (ValueBlock(codes, len, out.memptr() + c) == 0xFFu) in.Fail("exponent field 255");
      if (len < want) in.Get(9);
    }
  });
  r.ExpectEnd();
  return out;
}

Theory NaturalQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  t.bound = 0.0;
  for (float x : g) CoordinateTheory(x, &t.exact, &t.bound);
  return t;
}

}  // namespace gradquant
