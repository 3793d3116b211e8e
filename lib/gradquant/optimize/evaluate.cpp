#include "gradquant/optimize/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gradquant/pipeline/item_pipeline.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/stat_names.hpp"

namespace gradquant {
namespace {

double Ratio(double a, double b) {
  return b > 0 ? a / b : std::numeric_limits<double>::quiet_NaN();
}

// Sums over some records, plus the n-weighted overload prediction.
struct Sums {
  RateDistortion rd;
  double overloadWeighted = 0, overloadWeight = 0;

  void Add(const Sums& o) {
    rd.bits += o.rd.bits;
    rd.downlinkBits += o.rd.downlinkBits;
    rd.coords += o.rd.coords;
    rd.errorSq += o.rd.errorSq;
    rd.normSq += o.rd.normSq;
    rd.aggErrorSq += o.rd.aggErrorSq;
    rd.aggNormSq += o.rd.aggNormSq;
    rd.accErrorSq += o.rd.accErrorSq;
    rd.accMeanNormSq += o.rd.accMeanNormSq;
    overloadWeighted += o.overloadWeighted;
    overloadWeight += o.overloadWeight;
  }
};

// The sums of one item's round.
Sums SumsOf(const Round& round, const ItemTruth& truth, const LayerInfo& layer) {
  Sums out;
  out.rd.bits = round.Bits();
  for (std::size_t w = 0; w < truth.slabs.size(); ++w) {
    out.rd.errorSq += round.errorSq[w];
    out.rd.normSq += round.inputNormSq[w];
  }
  out.rd.aggErrorSq = round.aggErrorSq;
  out.rd.accErrorSq = round.feedback.accErrorSq;
  out.rd.accMeanNormSq = round.feedback.accMeanNormSq;
  out.rd.aggNormSq = truth.meanNormSq;
  out.rd.downlinkBits = round.decoded.downlinkBits;
  out.rd.coords = static_cast<double>(layer.n) * static_cast<double>(truth.slabs.size());
  const auto it = round.stats.find(stat::kOverloadPred);
  if (it != round.stats.end()) {
    out.overloadWeighted = it->second * static_cast<double>(layer.n);
    out.overloadWeight = static_cast<double>(layer.n);
  }
  return out;
}

}  // namespace

double RateDistortion::Nmse() const { return Ratio(errorSq, normSq); }

double RateDistortion::AggNmse() const { return Ratio(aggErrorSq, aggNormSq); }

double RateDistortion::AccNmse() const { return Ratio(accErrorSq, accMeanNormSq); }

RateDistortion Evaluate(const SlabSet& set, const Quantizer& quantizer, std::uint64_t seed,
                        std::optional<Feedback> feedback) {
  if (feedback) CheckFeedback(*feedback, quantizer);
  const std::size_t layers = set.layers.size(), records = set.steps.size();
  std::vector<std::unique_ptr<LayerState>> states(layers);
  std::vector<std::unique_ptr<FeedbackMemory>> memories(layers);
  std::vector<char> stateful(layers);
  bool anyStateful = false;
  for (std::size_t li = 0; li < layers; ++li) {
    stateful[li] = feedback || quantizer.NewLayerState(set.layers[li]) != nullptr;
    anyStateful = anyStateful || stateful[li];
  }
  // One item in flight per thread. A stateless method's sums are added in item order; a
  // stateful one's per layer first, then the layers in order.
  std::vector<std::unique_ptr<ItemTruth>> truths(layers * records);
  std::vector<Sums> parts(layers * records), layerSums(layers);
  Sums total;
  RunItemPipeline(
      layers, records, stateful,
      [&](std::size_t j) {
        truths[j] = std::make_unique<ItemTruth>(set.Read(j / records, j % records));
      },
      [&](std::size_t j) {
        const std::size_t li = j / records, ri = j % records;
        const std::size_t workers = truths[j]->slabs.size();
        if (ri == 0 && stateful[li]) {
          states[li] = quantizer.NewLayerState(set.layers[li]);
          if (feedback) {
            memories[li] =
                std::make_unique<FeedbackMemory>(*feedback, quantizer, workers, set.layers[li].n);
          }
        }
        RoundParts partsToRun;
        partsToRun.theory = false;
        const Round round =
            RunRound(quantizer, *truths[j],
                     ItemContext(set.layers[li], seed, set.steps[ri], workers, states[li].get()),
                     partsToRun, memories[li].get());
        parts[j] = SumsOf(round, *truths[j], set.layers[li]);
        // The accumulated error of a layer is its last record's.
        if (ri + 1 < records) parts[j].rd.accErrorSq = parts[j].rd.accMeanNormSq = 0;
        truths[j].reset();
        if (ri + 1 == records) {
          states[li].reset();
          memories[li].reset();
        }
      },
      [&](std::size_t j) {
        const std::size_t li = j / records, ri = j % records;
        if (!anyStateful) {
          total.Add(parts[j]);
          return;
        }
        layerSums[li].Add(parts[j]);
        if (ri + 1 == records) total.Add(layerSums[li]);
      });
  RateDistortion rd = total.rd;
  if (!feedback) {
    rd.accErrorSq = std::numeric_limits<double>::quiet_NaN();
    rd.accMeanNormSq = std::numeric_limits<double>::quiet_NaN();
  }
  rd.overloadPred = total.overloadWeight > 0 ? total.overloadWeighted / total.overloadWeight
                                             : std::numeric_limits<double>::quiet_NaN();
  return rd;
}

}  // namespace gradquant
