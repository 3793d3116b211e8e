#include "gradquant/pipeline/analyze_job.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/pipeline/item_pipeline.hpp"
#include "gradquant/pipeline/quantizer_trials.hpp"
#include "gradquant/pipeline/round.hpp"

namespace gradquant {
namespace {

RowKey Grouped(const RowKey& key, GroupBy by) {
  RowKey out = key;
  out.record = out.step = -1;
  if (by == GroupBy::kAll) out.layer = "*";
  return out;
}

// The feedback mode as a sortable key (-1: not measured).
int FeedbackKey(const QuantizerResult& r) {
  return r.feedback ? static_cast<int>(*r.feedback) : -1;
}

QuantizerTally& TallyOf(QuantizerResult& row) { return row.tally; }
const QuantizerTally& TallyOf(const QuantizerResult& row) { return row.tally; }
GradientSummary& TallyOf(GradientResult& row) { return row.summary; }
const GradientSummary& TallyOf(const GradientResult& row) { return row.summary; }

// Merges the rows with equal keys, in order of first appearance.
template <class Row, class KeyOf>
void PoolInto(const std::vector<Row>& rows, std::vector<Row>& out, bool acrossLayers, KeyOf keyOf) {
  std::map<decltype(keyOf(rows.front())), std::size_t> index;
  for (const auto& row : rows) {
    const auto [it, inserted] = index.emplace(keyOf(row), out.size());
    if (inserted) {
      out.push_back(row);
    } else {
      TallyOf(out[it->second]).Merge(TallyOf(row), acrossLayers);
    }
  }
}

}  // namespace

AnalyzeResult RunAnalyze(const Dump& dump, const std::vector<const Quantizer*>& quantizers,
                         const Selection& selection, const AnalyzeOptions& options) {
  if (options.trials == 0) throw std::invalid_argument("RunAnalyze: trials must be >= 1");
  const std::size_t workers = dump.Workers();
  const std::size_t layers = selection.layers.size(), records = selection.records.size();
  const std::size_t items = layers * records;

  // The runs: every quantizer under every feedback mode (or under none, unmeasured).
  struct Run {
    std::size_t quantizer;
    std::optional<Feedback> feedback;
  };
  std::vector<Run> runs;
  for (std::size_t q = 0; q < quantizers.size(); ++q) {
    if (options.feedback.empty()) runs.push_back({q, std::nullopt});
    for (Feedback mode : options.feedback) {
      CheckFeedback(mode, *quantizers[q]);
      runs.push_back({q, mode});
    }
  }

  // One item: the truth, then every run's tally and the gradient summary.
  struct Item {
    std::unique_ptr<ItemTruth> truth;
    std::vector<QuantizerTally> tallies;
    GradientSummary summary;
  };
  std::vector<Item> work(items);
  // Run k's trial states and memories for layer l, alive while the layer's records run.
  struct Chains {
    std::vector<std::unique_ptr<LayerState>> states;
    std::vector<std::unique_ptr<FeedbackMemory>> memories;
  };
  std::vector<std::vector<Chains>> chains(layers);
  std::vector<char> stateful(layers, !options.feedback.empty());
  for (std::size_t li = 0; li < layers; ++li) {
    const LayerInfo& layer = dump.Layers()[selection.layers[li]];
    for (const Quantizer* q : quantizers) {
      stateful[li] = stateful[li] || q->NewLayerState(layer) != nullptr;
    }
  }
  // results[k] holds run k's rows in (layer, record) order.
  std::vector<std::vector<QuantizerResult>> results(runs.size());
  AnalyzeResult out;
  std::size_t done = 0;
  auto keyOf = [&](std::size_t j) {
    const std::size_t l = selection.layers[j / records], r = selection.records[j % records];
    return RowKey{dump.Layers()[l].name, static_cast<std::int64_t>(r), dump.Steps()[r]};
  };

  auto read = [&](std::size_t j) {
    const std::size_t l = selection.layers[j / records], r = selection.records[j % records];
    std::vector<arma::fvec> slabs(workers);
    ParallelFor(workers, [&](std::size_t w) { slabs[w] = dump.ReadSlab(l, r, w); });
    work[j].truth = std::make_unique<ItemTruth>(std::move(slabs));
  };
  auto compute = [&](std::size_t j) {
    const std::size_t li = j / records, ri = j % records;
    const LayerInfo& layer = dump.Layers()[selection.layers[li]];
    Item& item = work[j];
    // A stateful layer's chains live from its first record to its last (its records are
    // computed in order); a stateless layer's items run side by side, each with its own (null)
    // states.
    std::vector<Chains> fresh;
    if (!stateful[li] || ri == 0) {
      for (const Run& run : runs) {
        Chains c;
        c.states = NewTrialStates(*quantizers[run.quantizer], layer, options.trials);
        if (run.feedback) {
          c.memories = NewTrialMemories(*run.feedback, *quantizers[run.quantizer], layer, workers,
                                        options.trials);
        }
        fresh.push_back(std::move(c));
      }
    }
    if (stateful[li] && ri == 0) chains[li] = std::move(fresh);
    auto& itemChains = stateful[li] ? chains[li] : fresh;
    const SlabContext ctx =
        ItemContext(layer, options.seed,
                    static_cast<std::uint64_t>(dump.Steps()[selection.records[ri]]), workers);
    for (std::size_t k = 0; k < runs.size(); ++k) {
      Chains& c = itemChains[k];
      item.tallies.push_back(RunTrials(*quantizers[runs[k].quantizer], *item.truth, ctx, c.states,
                                       runs[k].feedback ? &c.memories : nullptr));
    }
    if (stateful[li] && ri + 1 == records) chains[li].clear();
    if (options.gradientStats) item.summary = GradientSummary::Of(item.truth->slabs);
    item.truth.reset();
  };
  auto commit = [&](std::size_t j) {
    Item& item = work[j];
    const RowKey key = keyOf(j);
    for (std::size_t k = 0; k < runs.size(); ++k) {
      results[k].push_back({runs[k].quantizer, runs[k].feedback, key, std::move(item.tallies[k])});
    }
    if (options.gradientStats) out.gradients.push_back({key, std::move(item.summary)});
    if (options.progress) options.progress(++done, items);
    item = Item{};
  };
  RunItemPipeline(layers, records, stateful, read, compute, commit);

  for (auto& rows : results) {
    for (auto& row : rows) out.quantizers.push_back(std::move(row));
  }
  return out;
}

AnalyzeResult Group(const AnalyzeResult& in, GroupBy by) {
  if (by == GroupBy::kRecord) return in;
  // First pool the records of each (quantizer, layer), then, for kAll, the layers.
  AnalyzeResult layers;
  PoolInto(in.quantizers, layers.quantizers, false, [](const QuantizerResult& r) {
    return std::make_tuple(r.quantizer, FeedbackKey(r), r.key.layer);
  });
  PoolInto(in.gradients, layers.gradients, false,
           [](const GradientResult& r) { return std::make_pair(std::size_t{0}, r.key.layer); });
  for (auto& r : layers.quantizers) r.key = Grouped(r.key, GroupBy::kLayer);
  for (auto& r : layers.gradients) r.key = Grouped(r.key, GroupBy::kLayer);
  if (by == GroupBy::kLayer) return layers;
  AnalyzeResult all;
  PoolInto(layers.quantizers, all.quantizers, true, [](const QuantizerResult& r) {
    return std::make_tuple(r.quantizer, FeedbackKey(r), std::string());
  });
  PoolInto(layers.gradients, all.gradients, true,
           [](const GradientResult&) { return std::make_pair(std::size_t{0}, std::string()); });
  for (auto& r : all.quantizers) r.key = Grouped(r.key, GroupBy::kAll);
  for (auto& r : all.gradients) r.key = Grouped(r.key, GroupBy::kAll);
  return all;
}

}  // namespace gradquant
