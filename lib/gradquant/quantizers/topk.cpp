#include "gradquant/quantizers/topk.hpp"

#include <algorithm>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/top_k_select.hpp"

namespace gradquant {
namespace {

// Reads the `index` choice before Canonical() is taken.
IndexCode ReadIndexCode(Params& params) {
  return params.Choice("index", "gamma", {"gamma", "rice"},
                       "gap code of the index set: Elias-gamma or Golomb-Rice") == "rice"
             ? IndexCode::kRice
             : IndexCode::kGamma;
}

}  // namespace

TopKQuantizer::TopKQuantizer(Params& params) : sparsity_(params), code_(ReadIndexCode(params)) {
  spec_ = params.Canonical();
}

Message TopKQuantizer::Encode(const arma::fvec& g, const SlabContext&, SlabStats* stats) const {
  const std::vector<std::size_t> selected =
      TopKIndices(g.memptr(), g.n_elem, sparsity_.Count(g.n_elem));
  BitWriter w;
  PutIndexSet(w, selected, g.n_elem, code_);
  const std::uint64_t indexBits = w.BitCount();
  for (std::size_t i : selected) w.PutFloat32(g[i]);
  if (stats) {
    (*stats)["bits_index"] = static_cast<double>(indexBits);
    (*stats)["bits_ideal_index"] = IdealIndexBits(g.n_elem, selected.size());
    (*stats)["bits_naive_index"] = static_cast<double>(NaiveIndexBits(g.n_elem, selected.size()));
  }
  return w.Finish();
}

arma::fvec TopKQuantizer::DecodeIndexed(const Message& message, const SlabContext& ctx,
                                        std::vector<std::size_t>* selected) const {
  BitReader r(message, MessageName(spec_, ctx));
  const std::uint64_t n = ctx.layer->n;
  *selected = GetIndexSet(r, n, sparsity_.Count(n), code_);
  arma::fvec out(n, arma::fill::zeros);
  for (std::size_t i : *selected) out[i] = r.GetFloat32();
  r.ExpectEnd();
  return out;
}

arma::fvec TopKQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  std::vector<std::size_t> selected;
  return DecodeIndexed(message, ctx, &selected);
}

GroupResult TopKQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                       const SlabContext& ctx) const {
  GroupResult out;
  out.workers.resize(messages.size());
  std::vector<std::vector<std::size_t>> sets(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    out.workers[w] =
        DecodeIndexed(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)), &sets[w]);
  });
  out.aggregate = MeanOf(out.workers);
  // The union of the workers' supports (a sent value is never zero: TopKIndices skips zeros;
  // a decoded zero is not support). Exact cancellations in the mean are still sent, as zeros:
  // the server does not prune.
  std::vector<std::size_t> support;
  for (std::size_t w = 0; w < sets.size(); ++w) {
    for (std::size_t i : sets[w]) {
      if (out.workers[w][i] != 0.0f) support.push_back(i);
    }
  }
  std::sort(support.begin(), support.end());
  support.erase(std::unique(support.begin(), support.end()), support.end());
  out.downlinkBits = IndexSetBits(support, ctx.layer->n, code_) + 32 * support.size();
  out.stats["union_frac"] =
      ctx.layer->n ? static_cast<double>(support.size()) / static_cast<double>(ctx.layer->n) : 0.0;
  return out;
}

Theory TopKQuantizer::ExpectedError(const arma::fvec& g, const SlabContext&) const {
  const std::uint64_t k = sparsity_.Count(g.n_elem);
  const std::vector<std::size_t> selected = TopKIndices(g.memptr(), g.n_elem, k);
  // Summing the dropped coordinates directly avoids the cancellation in ||g||^2 − Σ_S g_i^2.
  std::vector<char> kept(g.n_elem, 0);
  for (std::size_t i : selected) kept[i] = 1;
  double normSq = 0.0, dropped = 0.0;
  for (std::size_t i = 0; i < g.n_elem; ++i) {
    const double x2 = static_cast<double>(g[i]) * g[i];
    normSq += x2;
    if (!kept[i]) dropped += x2;
  }
  Theory t;
  t.exact = dropped;
  t.bound =
      g.n_elem ? (1.0 - static_cast<double>(k) / static_cast<double>(g.n_elem)) * normSq : 0.0;
  return t;
}

}  // namespace gradquant
