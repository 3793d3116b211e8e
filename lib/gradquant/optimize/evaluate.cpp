#include "gradquant/optimize/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/error_metrics.hpp"

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
    overloadWeighted += o.overloadWeighted;
    overloadWeight += o.overloadWeight;
  }
};

// One record of one layer, read here and dropped on return, encoded with @p state (null for
// stateless methods), which then moves on, only after this record was measured with the state
// it was encoded with.
Sums EvaluateRecord(const SlabSet& set, std::size_t li, std::size_t ri, const Quantizer& quantizer,
                    std::uint64_t seed, LayerState* state) {
  const LayerInfo& layer = set.layers[li];
  const std::vector<arma::fvec> slabs = set.Read(li, ri);
  Sums out;
  SlabContext ctx;
  ctx.layer = &layer;
  ctx.seed = seed;
  ctx.step = set.steps[ri];
  ctx.workers = static_cast<std::uint32_t>(slabs.size());
  ctx.state = state;
  SlabStats stats;
  const std::vector<Message> encoded = quantizer.EncodeGroup(slabs, ctx, &stats);
  const GroupResult decoded = quantizer.DecodeGroup(encoded, ctx);
  quantizer.Diagnose(slabs, decoded, ctx, &stats);
  for (std::size_t w = 0; w < slabs.size(); ++w) {
    out.rd.bits += encoded[w].bits;
    out.rd.errorSq += FitErrorSq(decoded.workers[w], slabs[w], quantizer.SignOutput());
    out.rd.normSq += SquaredNorm(slabs[w]);
  }
  if (state) quantizer.Observe(*state, decoded, ctx);
  const arma::fvec mean = MeanOf(slabs);
  out.rd.aggErrorSq += FitErrorSq(decoded.aggregate, mean, quantizer.SignOutput());
  out.rd.aggNormSq += SquaredNorm(mean);
  out.rd.downlinkBits += decoded.downlinkBits;
  out.rd.coords += static_cast<double>(layer.n) * static_cast<double>(slabs.size());
  const auto it = stats.find("overload_pred");
  if (it != stats.end()) {
    out.overloadWeighted += it->second * static_cast<double>(layer.n);
    out.overloadWeight += static_cast<double>(layer.n);
  }
  return out;
}

}  // namespace

double RateDistortion::Nmse() const { return Ratio(errorSq, normSq); }

double RateDistortion::AggNmse() const { return Ratio(aggErrorSq, aggNormSq); }

RateDistortion Evaluate(const SlabSet& set, const Quantizer& quantizer, std::uint64_t seed) {
  const std::size_t layers = set.layers.size(), records = set.steps.size();
  std::vector<std::unique_ptr<LayerState>> states(layers);
  bool stateful = false;
  for (std::size_t li = 0; li < layers; ++li) {
    states[li] = quantizer.NewLayerState(set.layers[li]);
    stateful = stateful || states[li] != nullptr;
  }
  // Stateless methods: every (layer, record) is independent. Stateful ones: records in order.
  // Each thread holds the one item it evaluates; the sums are added in item order.
  std::vector<Sums> parts(stateful ? layers : layers * records);
  if (stateful) {
    ParallelFor(layers, [&](std::size_t li) {
      for (std::size_t ri = 0; ri < records; ++ri) {
        parts[li].Add(EvaluateRecord(set, li, ri, quantizer, seed, states[li].get()));
      }
    });
  } else {
    ParallelFor(parts.size(), [&](std::size_t i) {
      parts[i] = EvaluateRecord(set, i / records, i % records, quantizer, seed, nullptr);
    });
  }
  Sums total;
  for (const Sums& p : parts) total.Add(p);
  RateDistortion rd = total.rd;
  rd.overloadPred = total.overloadWeight > 0 ? total.overloadWeighted / total.overloadWeight
                                             : std::numeric_limits<double>::quiet_NaN();
  return rd;
}

}  // namespace gradquant
