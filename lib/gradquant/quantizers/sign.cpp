#include "gradquant/quantizers/sign.hpp"

#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/trits.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/majority_vote.hpp"
#include "gradquant/quantizers/sign_bits.hpp"
#include "gradquant/quantizers/slab_plan.hpp"

namespace gradquant {

SignQuantizer::SignQuantizer(Params& params) {
  tiesToOne_ =
      params.Choice("ties", "zero", {"zero", "one"},
                    "a tied vote (even workers) gives 0, or +1 for a 1-bit downlink") == "one";
  spec_ = params.Canonical();
}

Message SignQuantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  return EncodePlan(SlabPlan(g.n_elem, 0), [&](std::size_t, const Segment& seg, BitWriter& w) {
    PutSignBits(w, g.memptr() + seg.begin, seg.Size());  // sign(0) = +1
  });
}

arma::fvec SignQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  const SlabPlan plan(out.n_elem, 0);
  PlanReader reader(r, plan, [](const Segment& s) { return std::uint64_t{s.Size()}; });
  reader.Run([&](std::size_t, const Segment& seg, BitReader& in) {
    in.GetBitsAsFloats(seg.Size(), -1.0f, 1.0f, out.memptr() + seg.begin);
  });
  r.ExpectEnd();
  return out;
}

GroupResult SignQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                       const SlabContext& ctx) const {
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    out.workers[w] = Decode(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
  });
  VoteCounts counts;
  out.aggregate = MajorityVote(out.workers, &counts);
  const std::size_t ties = counts.ties;
  // Every coordinate carries a vote from every worker, so a 0 is a tie.
  if (tiesToOne_) out.aggregate.replace(0.0f, 1.0f);
  const std::uint64_t n = ctx.layer->n;
  if (tiesToOne_) {
    out.downlinkBits = n;
  } else {
    // The ternary vote in base-3 bytes: a fixed length, whatever the votes are.
    out.downlinkBits = TritBits(n, TritPacking::kBase3);
  }
  out.stats["tie_frac"] = n ? static_cast<double>(ties) / static_cast<double>(n) : 0.0;
  return out;
}

Theory SignQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  Theory t;
  double norm1 = 0.0, norm2 = 0.0;
  for (float x : g) {
    norm1 += std::fabs(static_cast<double>(x));
    norm2 += static_cast<double>(x) * x;
  }
  t.exact = g.n_elem ? std::max(0.0, norm2 - norm1 * norm1 / static_cast<double>(g.n_elem)) : 0.0;
  return t;
}

}  // namespace gradquant
