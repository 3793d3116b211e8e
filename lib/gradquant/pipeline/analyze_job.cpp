#include "gradquant/pipeline/analyze_job.hpp"

#include <map>
#include <memory>
#include <stdexcept>
#include <utility>

#include "gradquant/core/error.hpp"
#include "gradquant/core/memory.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/quantizer_trials.hpp"

namespace gradquant {
namespace {

RowKey Grouped(const RowKey& key, GroupBy by) {
  RowKey out = key;
  out.record = out.step = -1;
  if (by == GroupBy::kAll) out.layer = "*";
  return out;
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

GroupBy ParseGroupBy(const std::string& text) {
  if (text == "record") return GroupBy::kRecord;
  if (text == "layer") return GroupBy::kLayer;
  if (text == "all") return GroupBy::kAll;
  throw SpecError("--by " + text + ": expected record, layer or all");
}

AnalyzeResult RunAnalyze(const Dump& dump, const std::vector<const Quantizer*>& quantizers,
                         const Selection& selection, const AnalyzeOptions& options) {
  if (options.trials == 0) throw std::invalid_argument("RunAnalyze: trials must be >= 1");
  // Every trial allocates and frees slab-sized blocks: reuse them instead of faulting in pages.
  RetainFreedMemory();
  const std::size_t workers = dump.Workers();
  const std::size_t units = selection.layers.size() * selection.records.size();
  // results[q] holds quantizer q's rows in (layer, record) order.
  std::vector<std::vector<QuantizerResult>> results(quantizers.size());
  AnalyzeResult out;
  std::size_t done = 0;
  for (std::size_t l : selection.layers) {
    const LayerInfo& layer = dump.Layers()[l];
    std::vector<std::vector<std::unique_ptr<LayerState>>> states;
    for (const Quantizer* q : quantizers)
      states.push_back(NewTrialStates(*q, layer, options.trials));
    for (std::size_t r : selection.records) {
      std::vector<arma::fvec> slabs(workers);
      ParallelFor(workers, [&](std::size_t w) { slabs[w] = dump.ReadSlab(l, r, w); });
      const RowKey key{layer.name, static_cast<std::int64_t>(r), dump.Steps()[r]};
      SlabContext ctx;
      ctx.layer = &layer;
      ctx.seed = options.seed;
      ctx.step = static_cast<std::uint64_t>(dump.Steps()[r]);
      ctx.workers = static_cast<std::uint32_t>(workers);
      for (std::size_t q = 0; q < quantizers.size(); ++q) {
        results[q].push_back({q, key, RunTrials(*quantizers[q], slabs, ctx, states[q])});
      }
      if (options.gradientStats) out.gradients.push_back({key, GradientSummary::Of(slabs)});
      if (options.progress) options.progress(++done, units);
    }
  }
  for (auto& rows : results) {
    for (auto& row : rows) out.quantizers.push_back(std::move(row));
  }
  return out;
}

AnalyzeResult Group(const AnalyzeResult& in, GroupBy by) {
  if (by == GroupBy::kRecord) return in;
  // First pool the records of each (quantizer, layer), then, for kAll, the layers.
  AnalyzeResult layers;
  PoolInto(in.quantizers, layers.quantizers, false,
           [](const QuantizerResult& r) { return std::make_pair(r.quantizer, r.key.layer); });
  PoolInto(in.gradients, layers.gradients, false,
           [](const GradientResult& r) { return std::make_pair(std::size_t{0}, r.key.layer); });
  for (auto& r : layers.quantizers) r.key = Grouped(r.key, GroupBy::kLayer);
  for (auto& r : layers.gradients) r.key = Grouped(r.key, GroupBy::kLayer);
  if (by == GroupBy::kLayer) return layers;
  AnalyzeResult all;
  PoolInto(layers.quantizers, all.quantizers, true,
           [](const QuantizerResult& r) { return std::make_pair(r.quantizer, std::string()); });
  PoolInto(layers.gradients, all.gradients, true,
           [](const GradientResult&) { return std::make_pair(std::size_t{0}, std::string()); });
  for (auto& r : all.quantizers) r.key = Grouped(r.key, GroupBy::kAll);
  for (auto& r : all.gradients) r.key = Grouped(r.key, GroupBy::kAll);
  return all;
}

}  // namespace gradquant
