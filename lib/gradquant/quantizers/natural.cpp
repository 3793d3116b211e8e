#include "gradquant/quantizers/natural.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kChunk = 4096;  // uniforms generated per batch
constexpr std::uint32_t kMaxField = 254;
constexpr std::uint32_t kMantissaMask = 0x7FFFFFu;

std::uint32_t FloatBits(float t) {
  std::uint32_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return bits;
}

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
  const std::uint32_t bits = (code >> 8) << 31 | (code & 0xFFu) << 23;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

NaturalQuantizer::NaturalQuantizer(Params& params) : spec_(params.Canonical()) {}

Message NaturalQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                 SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  double u[kChunk];
  std::size_t flushed = 0, subnormal = 0;
  BitWriter w;
  for (std::size_t c = 0; c < g.n_elem; c += kChunk) {
    const std::size_t len = std::min<std::size_t>(kChunk, g.n_elem - c);
    rng.Uniforms(c, len, u);
    for (std::size_t i = 0; i < len; ++i) {
      const float t = g[c + i];
      bool flush = false;
      w.Put(NaturalCode(t, u[i], &flush), 9);
      flushed += flush;
      subnormal += std::fpclassify(t) == FP_SUBNORMAL;
    }
  }
  if (stats) {
    (*stats)["flushed"] = static_cast<double>(flushed);
    (*stats)["subnormal"] = static_cast<double>(subnormal);
  }
  return w.Finish();
}

arma::fvec NaturalQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n);
  for (auto& x : out) {
    const auto code = static_cast<std::uint32_t>(r.Get(9));
    if ((code & 0xFFu) == 0xFFu) r.Fail("exponent field 255");
    x = NaturalValue(code);
  }
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
