#include "gradquant/pipeline/quantizer_trials.hpp"

#include <cmath>

#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/error_metrics.hpp"

namespace gradquant {
namespace {

// Theory of one round's workers: Σ_w of the value and the bound, with their kinds, summed in
// worker order.
void AddTheory(const std::vector<Theory>& theories, double weight, QuantizerTally& t) {
  for (const Theory& theory : theories) {
    t.theoryKind = CombineTheoryKinds(t.theoryKind, theory.Kind());
    t.hasBound = t.hasBound && !std::isnan(theory.bound);
    if (!std::isnan(theory.Value())) t.theorySq += weight * theory.Value();
    if (!std::isnan(theory.bound)) t.boundSq += weight * theory.bound;
  }
}

}  // namespace

std::uint64_t TrialSeed(std::uint64_t seed, std::size_t trial) {
  return seed + static_cast<std::uint64_t>(trial);
}

std::vector<std::unique_ptr<LayerState>> NewTrialStates(const Quantizer& quantizer,
                                                        const LayerInfo& layer,
                                                        std::size_t trials) {
  std::vector<std::unique_ptr<LayerState>> states(trials);
  for (auto& s : states) s = quantizer.NewLayerState(layer);
  return states;
}

std::vector<std::unique_ptr<FeedbackMemory>> NewTrialMemories(Feedback mode,
                                                              const Quantizer& quantizer,
                                                              const LayerInfo& layer,
                                                              std::size_t workers,
                                                              std::size_t trials) {
  std::vector<std::unique_ptr<FeedbackMemory>> memories(trials);
  for (auto& m : memories) m = std::make_unique<FeedbackMemory>(mode, quantizer, workers, layer.n);
  return memories;
}

QuantizerTally RunTrials(const Quantizer& q, const ItemTruth& truth, const SlabContext& base,
                         std::vector<std::unique_ptr<LayerState>>& states,
                         std::vector<std::unique_ptr<FeedbackMemory>>* memories) {
  const std::vector<arma::fvec>& slabs = truth.slabs;
  const std::size_t trials = states.size(), workers = slabs.size(), n = base.layer->n;
  const double weight = static_cast<double>(n);
  const bool signOutput = q.SignOutput();
  // Error feedback makes every trial a chain of its own, like a state.
  bool stateful = memories != nullptr;
  for (const auto& s : states) stateful = stateful || s != nullptr;

  QuantizerTally t;
  t.n = n;
  t.records = 1;
  t.workers = workers;
  t.trials = trials;
  t.trialErrorSq.assign(trials, 0.0);
  t.gradientNormSq = truth.NormSq();
  t.trialNormSq.assign(trials, t.gradientNormSq);
  t.normSq = t.gradientNormSq;
  t.aggNormSq = truth.meanNormSq;
  t.feedback = memories != nullptr;
  if (t.feedback) {
    t.trialTheorySq.assign(trials, 0.0);
    t.trialBoundSq.assign(trials, 0.0);
  }
  std::vector<arma::vec> fittedSum(workers, arma::vec(n, arma::fill::zeros));
  // Under feedback each trial compresses its own x_w: Σ_r x_w, for the bias.
  std::vector<arma::vec> inputSum;
  std::vector<double> perWorker(workers);  // per-worker terms, summed in worker order
  auto sumPerWorker = [&] {
    double sum = 0.0;
    for (double v : perWorker) sum += v;
    return sum;
  };

  for (std::size_t r = 0; r < trials; ++r) {
    SlabContext ctx = base;
    ctx.seed = TrialSeed(base.seed, r);
    ctx.state = states[r].get();
    RoundParts parts;
    // Stateless theory is the same every trial; stateful theory is averaged over the trials.
    parts.theory = stateful || r == 0;
    FeedbackMemory* memory = memories ? (*memories)[r].get() : nullptr;
    const Round round = RunRound(q, truth, ctx, parts, memory);
    const std::vector<arma::fvec>& inputs = round.inputs.empty() ? slabs : round.inputs;
    if (!round.inputs.empty()) {
      if (inputSum.empty()) inputSum.assign(workers, arma::vec(n, arma::fill::zeros));
      ParallelFor(workers,
                  [&](std::size_t w) { inputSum[w] += arma::conv_to<arma::vec>::from(inputs[w]); });
      double inputNormSq = 0.0;
      for (double v : round.inputNormSq) inputNormSq += v;  // worker order
      t.trialNormSq[r] = inputNormSq;
    }
    t.residualSq += round.feedback.residualSq;
    t.accErrorSq += round.feedback.accErrorSq;
    t.accMeanNormSq = round.feedback.accMeanNormSq;
    t.encodeSeconds += round.encodeSeconds;
    t.decodeSeconds += round.decodeSeconds;
    t.inputBytes += 4.0 * weight * static_cast<double>(workers);

    std::vector<double> cosines(workers);
    ParallelFor(workers, [&](std::size_t w) {
      fittedSum[w] += Fitted(round.decoded.workers[w], inputs[w], signOutput);
      cosines[w] = Cosine(round.decoded.workers[w], inputs[w]);
    });
    t.trialErrorSq[r] = round.ErrorSq();
    double trialBits = 0.0;
    for (std::size_t w = 0; w < workers; ++w) {
      trialBits += static_cast<double>(round.messages.at(w).bits);
      const double cosine = cosines[w];
      if (!std::isnan(cosine)) {
        t.cosineSum += weight * cosine;
        t.cosineWeight += weight;
      }
    }
    t.bits += trialBits;
    const auto entropy = round.stats.find(stat::kBitsEntropy);
    t.idealBits +=
        entropy != round.stats.end() ? entropy->second * static_cast<double>(workers) : trialBits;
    t.aggErrorSq += round.aggErrorSq;
    t.downlinkBits += static_cast<double>(round.decoded.downlinkBits);
    for (const auto& [key, value] : round.stats) {
      if (key == stat::kBitsEntropy || std::isnan(value)) continue;
      t.stats[key].first += weight * value;
      t.stats[key].second += weight;
    }
    if (parts.theory)
      AddTheory(round.theory, stateful ? 1.0 / static_cast<double>(trials) : 1.0, t);
    if (t.feedback) {
      for (const Theory& theory : round.theory) {
        if (!std::isnan(theory.Value())) t.trialTheorySq[r] += theory.Value();
        if (!std::isnan(theory.bound)) t.trialBoundSq[r] += theory.bound;
      }
    }
  }
  ParallelFor(workers, [&](std::size_t w) {
    const arma::vec mean = fittedSum[w] / static_cast<double>(trials);
    const arma::vec diff = inputSum.empty()
                               ? arma::vec(mean - arma::conv_to<arma::vec>::from(slabs[w]))
                               : arma::vec(mean - inputSum[w] / static_cast<double>(trials));
    perWorker[w] = arma::dot(diff, diff);
  });
  if (!inputSum.empty()) {
    double sum = 0.0;
    for (double v : t.trialNormSq) sum += v;
    t.normSq = sum / static_cast<double>(trials);
  }
  t.biasSq = sumPerWorker();
  return t;
}

}  // namespace gradquant
