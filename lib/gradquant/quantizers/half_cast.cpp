#include "gradquant/quantizers/half_cast.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/slab_plan.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 2048;  // coordinates per batch (stack buffers)

}  // namespace

HalfCastQuantizer::HalfCastQuantizer(Params& params)
    : format_(params.Name() == "bf16" ? kBfloat16 : kFloat16),
      stochastic_(params.Choice("rounding", "nearest", {"nearest", "stochastic"},
                                "nearest-even (saturating at the largest finite value), or "
                                "stochastic rounding between the two neighbours (unbiased)") ==
                  "stochastic"),
      spec_(params.Canonical()) {}

Message HalfCastQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                  SlabStats* stats) const {
  const Rng rng(ctx.Key(), Purpose::kRounding);
  const SlabPlan plan(g.n_elem, 0);
  std::vector<CastCounts> pieces(plan.Pieces());
  Message m = EncodePlan(plan, [&](std::size_t p, const Segment& seg, BitWriter& w) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t len = std::min(kBlock, seg.end - c);
      CastCounts counts;
      if (stochastic_) {
        std::uint32_t words[kBlock];
        rng.Words(c, len, words);  // U_i = words[i]·2^-32 = Uniform(c + i)
        StochasticCodes(format_, g.memptr() + c, words, len, codes, &counts);
      } else {
        NearestCodes(format_, g.memptr() + c, len, codes, &counts);
      }
      pieces[p] += counts;
      w.PutFixed(codes, len, 16);
    }
  });
  if (stats) {
    CastCounts total;
    for (const CastCounts& c : pieces) total += c;  // in piece order: thread-count free
    (*stats)["overflow"] = static_cast<double>(total.overflow);
    (*stats)["underflow"] = static_cast<double>(total.underflow);
    (*stats)["underflow_energy"] = total.underflowEnergy;
  }
  return m;
}

arma::fvec HalfCastQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return 16 * std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    std::uint32_t codes[kBlock];
    for (std::size_t c = seg.begin; c < seg.end; c += kBlock) {
      const std::size_t want = std::min(kBlock, seg.end - c);
      // A short message: the whole codes there are, then the next Get fails as it would alone.
      const std::size_t len = std::min<std::uint64_t>(want, in.Remaining() / 16);
      in.GetFixed(codes, len, 16);
      if (!FormatValues(format_, codes, len, out.memptr() + c)) in.Fail("exponent field all ones");
      if (len < want) in.Get(16);
    }
  });
  r.ExpectEnd();
  return out;
}

Theory HalfCastQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  t.exact = 0.0;
  if (stochastic_) {
    for (float x : g) t.exact += StochasticCastError(format_, x);
    return t;
  }
  // Nearest is deterministic: the error of the cast itself, through the block kernels.
  std::uint32_t codes[kBlock];
  float values[kBlock];
  for (std::size_t c = 0; c < g.n_elem; c += kBlock) {
    const std::size_t len = std::min<std::size_t>(kBlock, g.n_elem - c);
    CastCounts counts;
    NearestCodes(format_, g.memptr() + c, len, codes, &counts);
    FormatValues(format_, codes, len, values);
    for (std::size_t i = 0; i < len; ++i) {
      const double e = static_cast<double>(values[i]) - static_cast<double>(g[c + i]);
      t.exact += e * e;
    }
  }
  return t;
}

}  // namespace gradquant
