#include "gradquant/pipeline/compress_job.hpp"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/io/hdf5_lock.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/pipeline/item_pipeline.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant {
namespace {

void AddStats(SlabStats& into, const SlabStats& from) {
  for (const auto& [key, value] : from) into[key] += value;
}

// Turns the summed per-record stats into means over the records that reported each key, so a
// number a method reports only once it is known (GradiVeQ's d after its fit) is not diluted.
void FinishStats(LayerTotals& t, const std::map<std::string, std::uint64_t>& reported) {
  for (auto& [key, value] : t.stats) {
    const auto it = reported.find(key);
    value /= static_cast<double>(std::max<std::uint64_t>(1, it == reported.end() ? 0 : it->second));
  }
}

}  // namespace

void LayerTotals::Add(const LayerTotals& o) {
  n += o.n;
  slabs += o.slabs;
  records = std::max(records, o.records);
  bits += o.bits;
  downlinkBits += o.downlinkBits;
  errorSq += o.errorSq;
  normSq += o.normSq;
  gradientNormSq += o.gradientNormSq;
  residualSq += o.residualSq;
  accErrorSq += o.accErrorSq;
  accMeanNormSq += o.accMeanNormSq;
  theorySq += o.theorySq;
  aggErrorSq += o.aggErrorSq;
  aggNormSq += o.aggNormSq;
  nonfinite += o.nonfinite;
  theoryKind = CombineTheoryKinds(theoryKind, o.theoryKind);
}

namespace {

// One (layer, record) of a compress run as it moves through the pipeline.
struct Item {
  std::unique_ptr<ItemTruth> truth;  // read; freed once computed
  Round round;
  std::uint64_t nonfinite = 0;  // NaN/Inf values zeroed while reading
};

}  // namespace

std::vector<LayerTotals> RunCompress(const Dump& dump, const Quantizer& quantizer,
                                     const Selection& selection, const CompressOptions& options) {
  std::vector<LayerInfo> layers;
  for (std::size_t l : selection.layers) layers.push_back(dump.Layers()[l]);
  std::vector<std::int64_t> steps;
  for (std::size_t r : selection.records) steps.push_back(dump.Steps()[r]);
  const std::size_t workers = dump.Workers(), records = steps.size();

  const bool withFeedback = options.feedback.has_value();
  const Feedback feedback = options.feedback.value_or(Feedback::kNone);
  CheckFeedback(feedback, quantizer);
  OutputFile out(options.outPath);
  DumpWriter writer(out, steps, workers, layers, options.attributes, /*withAggregate=*/true);
  MessageWriter messages(out, steps, workers, layers, quantizer.Spec(), options.seed,
                         feedback == Feedback::kNone ? "" : FeedbackName(feedback));

  // Items are read side by side, computed side by side (a stateful layer's records in order)
  // and written in item order, where the totals are summed too (item_pipeline.hpp).
  const std::size_t items = layers.size() * records;
  std::vector<Item> work(items);
  std::vector<std::unique_ptr<LayerState>> states(layers.size());
  std::vector<std::unique_ptr<FeedbackMemory>> memories(layers.size());
  std::vector<char> stateful(layers.size());
  for (std::size_t li = 0; li < layers.size(); ++li) {
    stateful[li] = withFeedback || quantizer.NewLayerState(layers[li]) != nullptr;
  }
  std::vector<LayerTotals> totals(layers.size());
  std::vector<std::map<std::string, std::uint64_t>> reported(layers.size());
  for (std::size_t li = 0; li < layers.size(); ++li) {
    totals[li].name = layers[li].name;
    totals[li].n = layers[li].n;
  }
  std::size_t done = 0;

  auto read = [&](std::size_t j) {
    Item& item = work[j];
    std::vector<arma::fvec> slabs(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      std::uint64_t zeroed = 0;
      slabs[w] =
          dump.ReadSlab(selection.layers[j / records], selection.records[j % records], w, &zeroed);
      item.nonfinite += zeroed;
    }
    item.truth = std::make_unique<ItemTruth>(std::move(slabs));
  };
  auto compute = [&](std::size_t j) {
    const std::size_t li = j / records, ri = j % records;
    Item& item = work[j];
    if (ri == 0 && stateful[li]) {
      states[li] = quantizer.NewLayerState(layers[li]);
      if (withFeedback) {
        memories[li] = std::make_unique<FeedbackMemory>(feedback, quantizer, workers, layers[li].n);
      }
    }
    const SlabContext ctx = ItemContext(
        layers[li], options.seed, static_cast<std::uint64_t>(steps[ri]), workers, states[li].get());
    item.round = RunRound(quantizer, *item.truth, ctx, {}, memories[li].get());
    if (ri + 1 == records) {
      states[li].reset();
      memories[li].reset();
    }
    item.truth->slabs = {};  // the reconstructions are what is written; the truth's norms stay
  };
  auto commit = [&](std::size_t j) {
    const std::size_t li = j / records, ri = j % records;
    Item& item = work[j];
    const Round& round = item.round;
    LayerTotals& t = totals[li];
    AddStats(t.stats, round.stats);
    for (const auto& entry : round.stats) ++reported[li][entry.first];
    {
      std::lock_guard<std::mutex> lock(Hdf5Lock());
      messages.Write(li, ri, round.messages, round.decoded.downlinkBits);
      for (std::size_t w = 0; w < workers; ++w) {
        writer.WriteSlab(li, ri, w, round.decoded.workers[w].memptr());
      }
      writer.WriteAggregate(li, ri, round.decoded.aggregate.memptr());
    }
    for (std::size_t w = 0; w < workers; ++w) {
      t.bits += round.messages[w].bits;
      t.errorSq += round.errorSq[w];
      t.normSq += round.inputNormSq[w];
      t.gradientNormSq += item.truth->normSq[w];
      t.theoryKind = CombineTheoryKinds(t.theoryKind, round.theory[w].Kind());
      if (!std::isnan(round.theory[w].Value())) t.theorySq += round.theory[w].Value();
    }
    t.nonfinite += item.nonfinite;
    t.aggErrorSq += round.aggErrorSq;
    t.aggNormSq += item.truth->meanNormSq;
    t.downlinkBits += round.decoded.downlinkBits;
    t.residualSq += round.feedback.residualSq;
    t.accErrorSq = round.feedback.accErrorSq;
    t.accMeanNormSq = round.feedback.accMeanNormSq;
    t.slabs += workers;
    ++t.records;
    if (ri + 1 == records) FinishStats(t, reported[li]);
    if (options.progress) options.progress(++done, items);
    item = Item{};  // the memory goes with the item
  };
  RunItemPipeline(layers.size(), records, stateful, read, compute, commit);

  RootAttributes counts;
  counts.strings["nonfinite"] = NonfiniteName(dump.Nonfinite());
  counts.unsignedIntegers["nonfinite_zeroed"] = 0;
  for (const auto& t : totals) counts.unsignedIntegers["nonfinite_zeroed"] += t.nonfinite;
  writer.AddAttributes(counts);
  out.Close();  // a write error (a full disk) surfaces before anything is reported
  if (options.beforeCommit) options.beforeCommit(totals);
  out.Commit();
  return totals;
}

std::vector<LayerTotals> RunDecompress(const std::string& inPath, const std::string& outPath,
                                       const Progress& progress, const BeforeCommit& beforeCommit) {
  const MessageReader reader(inPath);
  std::unique_ptr<Quantizer> quantizer;
  try {
    quantizer = BuiltinRegistry().Make(reader.Spec());
  } catch (const SpecError& e) {
    // The stored spec is part of what the checksums bind: an unknown one is a corrupt file, not a
    // usage error.
    throw FormatError(inPath + ": / attribute quantizer is not a valid spec (" + e.what() + ")");
  }
  std::optional<Feedback> feedback;
  if (!reader.Feedback().empty()) {
    try {
      feedback = ParseFeedback(reader.Feedback());
      CheckFeedback(*feedback, *quantizer);
    } catch (const SpecError& e) {
      throw FormatError(inPath + ": / attribute error_feedback is not valid (" + e.what() + ")");
    }
  }
  const std::size_t workers = reader.Workers();
  const auto& layers = reader.Layers();
  const auto& steps = reader.Steps();

  RootAttributes attrs;
  attrs.strings["quantizer"] = reader.Spec();
  attrs.strings["source"] = inPath;
  attrs.strings["gradquant_tool_version"] = kVersion;
  attrs.unsignedIntegers["seed"] = reader.Seed();
  if (feedback) attrs.strings["error_feedback"] = reader.Feedback();
  OutputFile out(outPath);
  DumpWriter writer(out, steps, workers, layers, attrs, /*withAggregate=*/true);

  std::vector<LayerTotals> totals;
  std::size_t done = 0;
  for (std::size_t li = 0; li < layers.size(); ++li) {
    LayerTotals t;
    t.name = layers[li].name;
    t.n = layers[li].n;
    std::unique_ptr<LayerState> state = quantizer->NewLayerState(layers[li]);
    std::unique_ptr<FeedbackMemory> memory;
    if (feedback) {
      memory = std::make_unique<FeedbackMemory>(*feedback, *quantizer, workers, layers[li].n);
    }
    for (std::size_t ri = 0; ri < steps.size(); ++ri) {
      const SlabContext ctx = ItemContext(
          layers[li], reader.Seed(), static_cast<std::uint64_t>(steps[ri]), workers, state.get());
      const std::vector<Message> encoded = reader.Read(li, ri);
      const GroupResult decoded = DecodeRound(*quantizer, encoded, ctx, memory.get());
      for (std::size_t w = 0; w < workers; ++w) {
        writer.WriteSlab(li, ri, w, decoded.workers[w].memptr());
        t.bits += encoded[w].bits;
      }
      writer.WriteAggregate(li, ri, decoded.aggregate.memptr());
      t.downlinkBits += decoded.downlinkBits;
      t.slabs += workers;
      ++t.records;
      if (progress) progress(++done, layers.size() * steps.size());
    }
    totals.push_back(t);
  }
  out.Close();
  if (beforeCommit) beforeCommit(totals);
  out.Commit();
  return totals;
}

}  // namespace gradquant
