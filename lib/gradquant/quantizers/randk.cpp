#include "gradquant/quantizers/randk.hpp"

#include <algorithm>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/random/partial_shuffle.hpp"

namespace gradquant {
namespace {

bool ReadUnbiased(Params& params) {
  return params.Choice("scale", "unbiased", {"unbiased", "none"},
                       "multiply the kept values by n/K (unbiased) or not (biased)") == "unbiased";
}

}  // namespace

RandKQuantizer::RandKQuantizer(Params& params)
    : sparsity_(params), unbiased_(ReadUnbiased(params)) {
  spec_ = params.Canonical();
}

std::uint64_t RandKQuantizer::Count(std::uint64_t n) const { return sparsity_.Count(n); }

std::vector<std::size_t> RandKQuantizer::Indices(const SlabContext& ctx) const {
  const std::uint64_t n = ctx.layer->n;
  return PartialShuffle(Rng(ctx.Key(), Purpose::kSelection), n, Count(n));
}

Message RandKQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats*) const {
  BitWriter w;
  for (std::size_t i : Indices(ctx)) w.PutFloat32(g[i]);
  return w.Finish();
}

arma::fvec RandKQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  return DecodeAt(message, ctx, Indices(ctx));
}

arma::fvec RandKQuantizer::DecodeAt(const Message& message, const SlabContext& ctx,
                                    const std::vector<std::size_t>& indices) const {
  BitReader r(message, MessageName(spec_, ctx));
  const double scale =
      unbiased_ ? static_cast<double>(ctx.layer->n) / static_cast<double>(indices.size()) : 1.0;
  arma::fvec out(ctx.layer->n, arma::fill::zeros);
  for (std::size_t i : indices) out[i] = static_cast<float>(scale * r.GetFloat32());
  r.ExpectEnd();
  return out;
}

GroupResult RandKQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                        const SlabContext& ctx) const {
  GroupResult out;
  out.workers.resize(messages.size());
  std::vector<std::vector<std::size_t>> indices(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    const SlabContext wctx = ctx.ForWorker(static_cast<std::uint32_t>(w));
    indices[w] = Indices(wctx);
    out.workers[w] = DecodeAt(messages[w], wctx, indices[w]);
  });
  out.aggregate = MeanOf(out.workers);
  std::vector<char> inUnion(ctx.layer->n, 0);
  std::uint64_t unionSize = 0;
  for (const auto& set : indices) {
    for (std::size_t i : set) {
      unionSize += inUnion[i] ? 0 : 1;
      inUnion[i] = 1;
    }
  }
  out.downlinkBits = 32 * unionSize;
  out.stats["union_frac"] =
      ctx.layer->n ? static_cast<double>(unionSize) / static_cast<double>(ctx.layer->n) : 0.0;
  return out;
}

Theory RandKQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  double normSq = 0.0;
  for (float x : g) normSq += static_cast<double>(x) * x;
  const double ratio = g.n_elem ? static_cast<double>(g.n_elem) / Count(g.n_elem) : 1.0;
  Theory t;
  t.exact = unbiased_ ? (ratio - 1.0) * normSq : (1.0 - 1.0 / ratio) * normSq;
  return t;
}

}  // namespace gradquant
