#include "gradquant/quantizers/sign.hpp"

#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/trits.hpp"
#include "gradquant/quantizers/majority_vote.hpp"

namespace gradquant {

SignQuantizer::SignQuantizer(Params& params) {
  tiesToOne_ =
      params.Choice("ties", "zero", {"zero", "one"},
                    "a tied vote (even workers) gives 0, or +1 for a 1-bit downlink") == "one";
  spec_ = params.Canonical();
}

Message SignQuantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats*) const {
  BitWriter w;
  for (float x : g) w.PutBit(x < 0);  // sign(0) = +1
  return w.Finish();
}

arma::fvec SignQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  arma::fvec out(ctx.layer->n);
  for (auto& x : out) x = r.GetBit() ? -1.0f : 1.0f;
  r.ExpectEnd();
  return out;
}

GroupResult SignQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                       const SlabContext& ctx) const {
  GroupResult out;
  for (std::size_t w = 0; w < messages.size(); ++w) {
    out.workers.push_back(Decode(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w))));
  }
  VoteCounts counts;
  out.aggregate = MajorityVote(out.workers, &counts);
  const std::size_t ties = counts.ties;
  // Every coordinate carries a vote from every worker, so a 0 is a tie.
  if (tiesToOne_) out.aggregate.replace(0.0f, 1.0f);
  const std::uint64_t n = ctx.layer->n;
  if (tiesToOne_) {
    out.downlinkBits = n;
  } else {
    // Encode the ternary vote for real, so its count is that of a decodable stream.
    std::vector<std::int8_t> trits(n);
    for (std::size_t i = 0; i < n; ++i) trits[i] = static_cast<std::int8_t>(out.aggregate[i]);
    BitWriter w;
    PutTrits(w, trits.data(), trits.size(), TritPacking::kBase3);
    out.downlinkBits = w.Finish().bits;
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
