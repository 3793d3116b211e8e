#include "gradquant/quantizers/fp32.hpp"

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

Fp32Quantizer::Fp32Quantizer(Params& params) : spec_(params.Canonical()) {}

Message Fp32Quantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  BitWriter w;
  for (float x : g) w.PutFloat32(x);
  return w.Finish();
}

arma::fvec Fp32Quantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n);
  for (auto& x : out) x = r.GetFloat32();
  r.ExpectEnd();
  return out;
}

Theory Fp32Quantizer::ExpectedError(const arma::fvec&, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  return t;
}

}  // namespace gradquant
