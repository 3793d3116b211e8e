#include "gradquant/stats/quantizer_trials.hpp"

#include <chrono>
#include <cmath>

#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/error_metrics.hpp"

namespace gradquant {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

void CheckSizes(const Quantizer& q, const GroupResult& decoded, std::size_t workers,
                std::size_t n) {
  bool ok = decoded.workers.size() == workers && decoded.aggregate.n_elem == n;
  for (const auto& w : decoded.workers) ok = ok && w.n_elem == n;
  if (!ok) throw Error(q.Spec() + ": DecodeGroup returned the wrong number or size of slabs");
}

// Theory of one group at one trial's state: Σ_w of the value and the bound, with their kinds.
// The workers' theories are computed side by side and summed in worker order.
void AddTheory(const Quantizer& q, const std::vector<arma::fvec>& slabs, const SlabContext& ctx,
               double weight, QuantizerTally& t) {
  std::vector<Theory> theories(slabs.size());
  ParallelFor(slabs.size(), [&](std::size_t w) {
    theories[w] = q.ExpectedError(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
  });
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

QuantizerTally RunTrials(const Quantizer& q, const std::vector<arma::fvec>& slabs,
                         const SlabContext& base,
                         std::vector<std::unique_ptr<LayerState>>& states) {
  const std::size_t trials = states.size(), workers = slabs.size(), n = base.layer->n;
  const double weight = static_cast<double>(n);
  const bool signOutput = q.SignOutput();
  bool stateful = false;
  for (const auto& s : states) stateful = stateful || s != nullptr;

  QuantizerTally t;
  t.n = n;
  t.records = 1;
  t.workers = workers;
  t.trials = trials;
  t.trialErrorSq.assign(trials, 0.0);
  std::vector<double> perWorker(workers);  // per-worker terms, summed in worker order
  auto sumPerWorker = [&] {
    double sum = 0.0;
    for (double v : perWorker) sum += v;
    return sum;
  };
  ParallelFor(workers, [&](std::size_t w) { perWorker[w] = SquaredNorm(slabs[w]); });
  t.normSq = sumPerWorker();
  const arma::fvec mean = MeanOf(slabs);
  t.aggNormSq = SquaredNorm(mean);
  std::vector<arma::vec> fittedSum(workers, arma::vec(n, arma::fill::zeros));

  for (std::size_t r = 0; r < trials; ++r) {
    SlabContext ctx = base;
    ctx.seed = TrialSeed(base.seed, r);
    ctx.state = states[r].get();
    SlabStats stats;
    const auto t0 = Clock::now();
    const std::vector<Message> messages = q.EncodeGroup(slabs, ctx, &stats);
    const auto t1 = Clock::now();
    const GroupResult decoded = q.DecodeGroup(messages, ctx);
    const auto t2 = Clock::now();
    CheckSizes(q, decoded, workers, n);
    t.encodeSeconds += Seconds(t0, t1);
    t.decodeSeconds += Seconds(t1, t2);
    t.inputBytes += 4.0 * weight * static_cast<double>(workers);
    q.Diagnose(slabs, decoded, ctx, &stats);
    for (const auto& [key, value] : decoded.stats) stats[key] += value;

    std::vector<double> cosines(workers);
    ParallelFor(workers, [&](std::size_t w) {
      perWorker[w] = FitErrorSq(decoded.workers[w], slabs[w], signOutput);
      fittedSum[w] += Fitted(decoded.workers[w], slabs[w], signOutput);
      cosines[w] = Cosine(decoded.workers[w], slabs[w]);
    });
    t.trialErrorSq[r] = sumPerWorker();
    double trialBits = 0.0;
    for (std::size_t w = 0; w < workers; ++w) {
      trialBits += static_cast<double>(messages.at(w).bits);
      const double cosine = cosines[w];
      if (!std::isnan(cosine)) {
        t.cosineSum += weight * cosine;
        t.cosineWeight += weight;
      }
    }
    t.bits += trialBits;
    const auto entropy = stats.find("bits_entropy");
    t.idealBits +=
        entropy != stats.end() ? entropy->second * static_cast<double>(workers) : trialBits;
    t.aggErrorSq += FitErrorSq(decoded.aggregate, mean, signOutput);
    t.downlinkBits += static_cast<double>(decoded.downlinkBits);
    for (const auto& [key, value] : stats) {
      if (key == "bits_entropy" || std::isnan(value)) continue;
      t.stats[key].first += weight * value;
      t.stats[key].second += weight;
    }
    // Stateless theory is the same every trial; stateful theory is averaged over the trials.
    if (stateful) {
      AddTheory(q, slabs, ctx, 1.0 / static_cast<double>(trials), t);
    } else if (r == 0) {
      AddTheory(q, slabs, ctx, 1.0, t);
    }
    if (ctx.state) q.Observe(*ctx.state, decoded, ctx);
  }
  ParallelFor(workers, [&](std::size_t w) {
    const arma::vec diff =
        fittedSum[w] / static_cast<double>(trials) - arma::conv_to<arma::vec>::from(slabs[w]);
    perWorker[w] = arma::dot(diff, diff);
  });
  t.biasSq = sumPerWorker();
  return t;
}

}  // namespace gradquant
