#include "gradquant/quantizers/scaled_sign.hpp"

#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

float ScaledSignScale(const arma::fvec& g) {
  if (g.n_elem == 0) return 0.0f;
  double norm1 = 0.0;
  for (float x : g) norm1 += std::fabs(static_cast<double>(x));
  return static_cast<float>(norm1 / static_cast<double>(g.n_elem));
}

ScaledSignQuantizer::ScaledSignQuantizer(Params& params) : spec_(params.Canonical()) {}

Message ScaledSignQuantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  BitWriter w;
  w.PutFloat32(ScaledSignScale(g));
  for (float x : g) w.PutBit(x < 0);  // sign(0) = +1
  return w.Finish();
}

arma::fvec ScaledSignQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const float scale = r.GetFloat32();
  if (!(scale >= 0.0f) || !std::isfinite(scale)) r.Fail("scale is not a finite value >= 0");
  arma::fvec out(ctx.layer->n);
  for (auto& x : out) x = r.GetBit() ? -scale : scale;
  r.ExpectEnd();
  return out;
}

Theory ScaledSignQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  const double c = ScaledSignScale(g);
  Theory t;
  t.exact = 0.0;
  for (float x : g) {
    const double e = (x < 0 ? -c : c) - static_cast<double>(x);
    t.exact += e * e;
  }
  return t;
}

}  // namespace gradquant
