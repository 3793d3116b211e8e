#include "gradquant/quantizers/fp32.hpp"

#include <algorithm>
#include <cstring>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/slab_plan.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // values per bulk read (stack buffer)

}  // namespace

void PutFloat32s(BitWriter& w, const float* values, std::size_t n) {
  std::uint32_t patterns[kBlock];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = std::min(kBlock, n - c);
    std::memcpy(patterns, values + c, len * sizeof(float));
    w.PutFixed(patterns, len, 32);
  }
}

void GetFloat32s(BitReader& r, float* values, std::size_t n) {
  std::uint32_t patterns[kBlock];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t want = std::min(kBlock, n - c);
    // A short message: the whole values there are, then the next Get fails as it would alone.
    const std::size_t len = std::min<std::uint64_t>(want, r.Remaining() / 32);
    r.GetFixed(patterns, len, 32);
    std::memcpy(values + c, patterns, len * sizeof(float));
    if (len < want) r.GetFloat32();
  }
}

Fp32Quantizer::Fp32Quantizer(Params& params) : spec_(params.Canonical()) {}

Message Fp32Quantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  return EncodePlan(SlabPlan(g.n_elem, 0), [&](std::size_t, const Segment& seg, BitWriter& w) {
    PutFloat32s(w, g.memptr() + seg.begin, seg.Size());
  });
}

arma::fvec Fp32Quantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return 32 * std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    GetFloat32s(in, out.memptr() + seg.begin, seg.Size());
  });
  r.ExpectEnd();
  return out;
}

Theory Fp32Quantizer::ExpectedError(const arma::fvec&, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  return t;
}

}  // namespace gradquant
