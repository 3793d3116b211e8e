#pragma once
/**
 * @file layer_chain.hpp
 * One layer of a run that lives across steps (a training loop, the Python bindings): the
 * quantizer's LayerState and the error-feedback memory of that layer, carried from round to
 * round, with the round protocol of round.hpp in its two deployments:
 * - all W workers in one process (simulated workers, offline tools): Run, which is RunRound;
 * - one worker per process (a DDP rank): EncodeWorker on the rank's own gradient, the
 *   messages exchanged by the caller, then Decode on every rank with the same messages, which
 *   gives the same aggregate and the same next state everywhere (same bits, same update).
 * Steps must come in increasing order, each step once; the context of step s is
 * ItemContext(layer, seed, s, workers) as in `compress`, so a training run's messages are the
 * bytes `gradquant compress --seed <seed>` writes for the same gradients.
 */
#include <armadillo>
#include <cstdint>
#include <memory>
#include <vector>

#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/** A layer's state across steps and the round protocol on it (see the file comment). */
class LayerChain {
 public:
  /**
   * @param quantizer must outlive the chain.
   * @throws SpecError if @p mode cannot run with @p quantizer (CheckFeedback).
   */
  LayerChain(const Quantizer& quantizer, LayerInfo layer, std::uint64_t seed, std::size_t workers,
             Feedback mode);

  const LayerInfo& Layer() const { return layer_; }
  std::size_t Workers() const { return workers_; }
  Feedback Mode() const { return feedback_.Mode(); }

  /** Every worker's round at @p step in this process (RunRound under the chain's feedback). */
  Round Run(std::uint64_t step, const std::vector<arma::fvec>& gradients,
            const RoundParts& parts = {});

  /**
   * Worker @p worker's message at @p step: Q(x) with x its gradient plus its memory. The chain
   * keeps x until Decode of the same step, which moves the worker's memory on.
   * @throws SpecError for a method whose protocol needs the server between two sends
   *         (Quantizer::NeedsRoundTrip); std::invalid_argument for a bad worker or size.
   */
  Message EncodeWorker(std::uint64_t step, std::size_t worker, const arma::fvec& gradient);

  /**
   * The server's side at @p step from the W messages, identical on every process that has
   * the same messages (DecodeRound: the layer's state and EF21's memory move on), then the
   * memories of the workers encoded here. Returns what the server holds: the aggregate to
   * apply, each worker's reconstruction and the downlink bits.
   * @throws FormatError if a message does not decode.
   */
  GroupResult Decode(std::uint64_t step, const std::vector<Message>& messages);

 private:
  SlabContext Context(std::uint64_t step) const;

  const Quantizer& quantizer_;
  LayerInfo layer_;
  std::uint64_t seed_;
  std::size_t workers_;
  std::unique_ptr<LayerState> state_;
  FeedbackMemory feedback_;
  std::vector<arma::fvec> pending_;  // x_w of workers encoded here, until Decode
};

}  // namespace gradquant
