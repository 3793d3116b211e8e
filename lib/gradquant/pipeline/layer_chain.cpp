#include "gradquant/pipeline/layer_chain.hpp"

#include <stdexcept>
#include <string>
#include <utility>

#include "gradquant/core/error.hpp"

namespace gradquant {

LayerChain::LayerChain(const Quantizer& quantizer, LayerInfo layer, std::uint64_t seed,
                       std::size_t workers, Feedback mode)
    : quantizer_(quantizer),
      layer_(std::move(layer)),
      seed_(seed),
      workers_(workers),
      state_(quantizer.NewLayerState(layer_)),
      feedback_(mode, quantizer, workers, layer_.n),
      pending_(workers) {
  if (workers == 0) throw std::invalid_argument("LayerChain: no workers");
}

SlabContext LayerChain::Context(std::uint64_t step) const {
  return ItemContext(layer_, seed_, step, workers_, state_.get());
}

Round LayerChain::Run(std::uint64_t step, const std::vector<arma::fvec>& gradients,
                      const RoundParts& parts) {
  if (gradients.size() != workers_) {
    throw std::invalid_argument("LayerChain::Run: " + std::to_string(gradients.size()) +
                                " gradients for " + std::to_string(workers_) + " workers");
  }
  return RunRound(quantizer_, ItemTruth(gradients), Context(step), parts, &feedback_);
}

Message LayerChain::EncodeWorker(std::uint64_t step, std::size_t worker,
                                 const arma::fvec& gradient) {
  if (quantizer_.NeedsRoundTrip()) {
    throw SpecError(quantizer_.Spec() +
                    ": its workers need the server between two sends (a shared value from "
                    "every worker), which a one-message exchange cannot carry; run its workers "
                    "in one process");
  }
  if (worker >= workers_) {
    throw std::invalid_argument("worker " + std::to_string(worker) + " of " +
                                std::to_string(workers_));
  }
  if (gradient.n_elem != layer_.n) {
    throw std::invalid_argument(layer_.name + ": " + std::to_string(gradient.n_elem) +
                                " values, the layer has " + std::to_string(layer_.n));
  }
  pending_[worker] = feedback_.Input(worker, gradient);
  return quantizer_.Encode(pending_[worker],
                           Context(step).ForWorker(static_cast<std::uint32_t>(worker)), nullptr);
}

GroupResult LayerChain::Decode(std::uint64_t step, const std::vector<Message>& messages) {
  if (messages.size() != workers_) {
    throw std::invalid_argument(layer_.name + ": " + std::to_string(messages.size()) +
                                " messages for " + std::to_string(workers_) + " workers");
  }
  GroupResult decoded = DecodeRound(quantizer_, messages, Context(step), &feedback_);
  // Classic's worker update needs the raw decoded message, which DecodeRound leaves as it is
  // (only EF21 replaces it with h_w, and EF21 has no worker update).
  for (std::size_t w = 0; w < workers_; ++w) {
    if (pending_[w].n_elem) feedback_.UpdateWorker(w, pending_[w], decoded.workers.at(w));
    pending_[w].reset();
  }
  return decoded;
}

}  // namespace gradquant
