#pragma once
/**
 * @file quantizer_trials.hpp
 * R independent runs of a quantizer on one (layer, record) slab group, measured against the
 * truth (docs/quantizers.md#error-metrics): the engine of `gradquant analyze`.
 *
 * Trial r uses the shared seed TrialSeed(seed, r) = seed + r (mod 2^64) and its own chain of
 * LayerState, so trial r is exactly what `gradquant compress --seed <seed + r>` computes, and
 * trial 0 reproduces compress with the same seed bit for bit: each trial is one round
 * (round.hpp), as in compress.
 */
#include <armadillo>
#include <cstdint>
#include <memory>
#include <vector>

#include "gradquant/pipeline/quantizer_tally.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {

/** The seed of trial @p trial: seed + trial, wrapping modulo 2^64. */
std::uint64_t TrialSeed(std::uint64_t seed, std::size_t trial);

/**
 * One LayerState per trial for @p layer (null entries for stateless methods); keep it for the
 * layer's records, in record order.
 */
std::vector<std::unique_ptr<LayerState>> NewTrialStates(const Quantizer& quantizer,
                                                        const LayerInfo& layer, std::size_t trials);

/**
 * Runs states.size() trials on one slab group and returns its tally (one record).
 * @param truth the W workers' true slabs, each ctx.layer->n long.
 * @param ctx layer, step, workers and the user's seed (ctx.state and ctx.worker are ignored).
 * @param states one state per trial from NewTrialStates, updated by Observe.
 * @param memories null, or one error-feedback memory per trial (NewTrialMemories), kept like
 *        the states for the layer's records.
 * @throws FormatError if a message fails to decode; Error if a decoder returns the wrong size.
 */
QuantizerTally RunTrials(const Quantizer& quantizer, const ItemTruth& truth, const SlabContext& ctx,
                         std::vector<std::unique_ptr<LayerState>>& states,
                         std::vector<std::unique_ptr<FeedbackMemory>>* memories = nullptr);

/** One FeedbackMemory per trial for @p layer and @p workers workers. @throws SpecError */
std::vector<std::unique_ptr<FeedbackMemory>> NewTrialMemories(Feedback mode,
                                                              const Quantizer& quantizer,
                                                              const LayerInfo& layer,
                                                              std::size_t workers,
                                                              std::size_t trials);

}  // namespace gradquant
