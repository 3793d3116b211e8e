#include "gradquant/quantizers/scaled_sign.hpp"

#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/sign_bits.hpp"
#include "gradquant/quantizers/slab_plan.hpp"
#include "gradquant/quantizers/slab_sums.hpp"

namespace gradquant {

float ScaledSignScale(const arma::fvec& g) {
  return MeanAbsToFloat(g.memptr(), g.n_elem);  // (float)(in-order Σ|g_i| / D), fast
}

ScaledSignQuantizer::ScaledSignQuantizer(Params& params) : spec_(params.Canonical()) {}

Message ScaledSignQuantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  const float scale = ScaledSignScale(g);
  return EncodePlan(SlabPlan(g.n_elem, 0), [&](std::size_t, const Segment& seg, BitWriter& w) {
    if (seg.head) w.PutFloat32(scale);
    PutSignBits(w, g.memptr() + seg.begin, seg.Size());  // sign(0) = +1
  });
}

arma::fvec ScaledSignQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const float scale = r.GetFloat32();
  if (!(scale >= 0.0f) || !std::isfinite(scale)) r.Fail("scale is not a finite value >= 0");
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  // The scale is read: the sign bits alone are cut into pieces.
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    in.GetBitsAsFloats(seg.Size(), -scale, scale, out.memptr() + seg.begin);
  });
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
