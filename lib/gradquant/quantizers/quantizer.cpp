#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

const char* Theory::Kind() const {
  if (!std::isnan(exact)) return "exact";
  return std::isnan(bound) ? "none" : "bound";
}

std::vector<Message> Quantizer::EncodeGroup(const std::vector<arma::fvec>& slabs,
                                            const SlabContext& ctx, SlabStats* stats) const {
  std::vector<Message> out(slabs.size());
  std::vector<SlabStats> perWorker(slabs.size());
  for (std::size_t w = 0; w < slabs.size(); ++w) {
    out[w] = Encode(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)), &perWorker[w]);
  }
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
  arma::vec sum(ctx.layer->n, arma::fill::zeros);
  for (std::size_t w = 0; w < messages.size(); ++w) {
    out.workers[w] = Decode(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
    sum += arma::conv_to<arma::vec>::from(out.workers[w]);
  }
  out.aggregate = arma::conv_to<arma::fvec>::from(sum / static_cast<double>(messages.size()));
  out.downlinkBits = 32 * ctx.layer->n;
  return out;
}

std::string MessageName(const std::string& spec, const SlabContext& ctx) {
  return spec + " " + ctx.layer->name + " step " + std::to_string(ctx.step) + " worker " +
         std::to_string(ctx.worker);
}

}  // namespace gradquant
