#include "gradquant/quantizers/quantizer.hpp"

#include <algorithm>

#include "gradquant/core/parallel.hpp"

namespace gradquant {

const char* Theory::Kind() const {
  if (!std::isnan(exact)) return "exact";
  if (!std::isnan(bound)) return "bound";
  if (!std::isnan(lowerBound)) return "lower_bound";
  return std::isnan(approx) ? "none" : "approx";
}

std::string CombineTheoryKinds(const std::string& a, const std::string& b) {
  if (a.empty() || a == b) return b;
  if (a == "none" || b == "none") return "none";
  if (a == "exact") return b;  // exact parts keep the other part's kind
  if (b == "exact") return a;
  return "none";  // an upper bound summed with a lower bound (or a model) bounds nothing
}

std::vector<Message> Quantizer::EncodeGroup(const std::vector<arma::fvec>& slabs,
                                            const SlabContext& ctx, SlabStats* stats) const {
  std::vector<Message> out(slabs.size());
  std::vector<SlabStats> perWorker(slabs.size());
  ParallelFor(slabs.size(), [&](std::size_t w) {
    out[w] = Encode(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)),
                    stats ? &perWorker[w] : nullptr);  // no stats asked: none computed
  });
  // Per-worker numbers are reported as their mean over the group.
  if (stats) {
    for (const auto& s : perWorker) {
      for (const auto& [key, value] : s) (*stats)[key] += value / static_cast<double>(slabs.size());
    }
  }
  return out;
}

Theory Quantizer::ExpectedError(const arma::fvec&, const SlabContext&) const { return {}; }

void Quantizer::Diagnose(const std::vector<arma::fvec>&, const GroupResult&, const SlabContext&,
                         SlabStats*) const {}

std::unique_ptr<LayerState> Quantizer::NewLayerState(const LayerInfo&) const { return nullptr; }

void Quantizer::Observe(LayerState&, const GroupResult&, const SlabContext&) const {}

GroupResult IndependentQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                              const SlabContext& ctx) const {
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    out.workers[w] = Decode(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
  });
  // Summed in worker order, so the aggregate does not depend on the thread count.
  out.aggregate = MeanOf(out.workers);
  out.downlinkBits = 32 * ctx.layer->n;
  return out;
}

std::string MessageName(const std::string& spec, const SlabContext& ctx) {
  return spec + " " + ctx.layer->name + " step " + std::to_string(ctx.step) + " worker " +
         std::to_string(ctx.worker);
}

}  // namespace gradquant
