#include "gradquant/pipeline/compress_job.hpp"

#include <cmath>
#include <map>
#include <memory>

#include "gradquant/core/parallel.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/stats/error_metrics.hpp"

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
  theorySq += o.theorySq;
  aggErrorSq += o.aggErrorSq;
  aggNormSq += o.aggNormSq;
  nonfinite += o.nonfinite;
  theoryKind = CombineTheoryKinds(theoryKind, o.theoryKind);
}

std::vector<LayerTotals> RunCompress(const Dump& dump, const Quantizer& quantizer,
                                     const Selection& selection, const CompressOptions& options) {
  std::vector<LayerInfo> layers;
  for (std::size_t l : selection.layers) layers.push_back(dump.Layers()[l]);
  std::vector<std::int64_t> steps;
  for (std::size_t r : selection.records) steps.push_back(dump.Steps()[r]);
  const std::size_t workers = dump.Workers();

  OutputFile out(options.outPath);
  DumpWriter writer(out, steps, workers, layers, options.attributes, /*withAggregate=*/true);
  MessageWriter messages(out, steps, workers, layers, quantizer.Spec(), options.seed);

  std::vector<LayerTotals> totals;
  const std::size_t units = layers.size() * steps.size();
  std::size_t done = 0;
  for (std::size_t li = 0; li < layers.size(); ++li) {
    const LayerInfo& layer = layers[li];
    LayerTotals t;
    t.name = layer.name;
    t.n = layer.n;
    std::map<std::string, std::uint64_t> reported;  // records that reported each stat
    std::unique_ptr<LayerState> state = quantizer.NewLayerState(layer);
    for (std::size_t ri = 0; ri < steps.size(); ++ri) {
      std::vector<arma::fvec> slabs(workers);
      std::vector<std::uint64_t> zeroed(workers, 0);
      ParallelFor(workers, [&](std::size_t w) {
        slabs[w] = dump.ReadSlab(selection.layers[li], selection.records[ri], w, &zeroed[w]);
      });
      for (std::uint64_t z : zeroed) t.nonfinite += z;
      SlabContext ctx;
      ctx.layer = &layer;
      ctx.seed = options.seed;
      ctx.step = static_cast<std::uint64_t>(steps[ri]);
      ctx.workers = static_cast<std::uint32_t>(workers);
      ctx.state = state.get();
      SlabStats stats;
      const std::vector<Message> encoded = quantizer.EncodeGroup(slabs, ctx, &stats);
      const GroupResult decoded = quantizer.DecodeGroup(encoded, ctx);
      quantizer.Diagnose(slabs, decoded, ctx, &stats);
      AddStats(stats, decoded.stats);
      AddStats(t.stats, stats);
      for (const auto& entry : stats) ++reported[entry.first];
      messages.Write(li, ri, encoded, decoded.downlinkBits);
      std::vector<Theory> theory(workers);
      std::vector<double> errorSq(workers), normSq(workers);
      ParallelFor(workers, [&](std::size_t w) {
        theory[w] = quantizer.ExpectedError(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
        errorSq[w] = FitErrorSq(decoded.workers[w], slabs[w], quantizer.SignOutput());
        normSq[w] = SquaredNorm(slabs[w]);
      });
      for (std::size_t w = 0; w < workers; ++w) {
        writer.WriteSlab(li, ri, w, decoded.workers[w].memptr());
        t.bits += encoded[w].bits;
        t.errorSq += errorSq[w];
        t.normSq += normSq[w];
        t.theoryKind = CombineTheoryKinds(t.theoryKind, theory[w].Kind());
        if (!std::isnan(theory[w].Value())) t.theorySq += theory[w].Value();
      }
      // The state moves on only after everything about this record used the state it was
      // encoded with.
      if (state) quantizer.Observe(*state, decoded, ctx);
      writer.WriteAggregate(li, ri, decoded.aggregate.memptr());
      const arma::fvec mean = MeanOf(slabs);
      t.aggErrorSq += FitErrorSq(decoded.aggregate, mean, quantizer.SignOutput());
      t.aggNormSq += SquaredNorm(mean);
      t.downlinkBits += decoded.downlinkBits;
      t.slabs += workers;
      ++t.records;
      if (options.progress) options.progress(++done, units);
    }
    FinishStats(t, reported);
    totals.push_back(t);
  }
  RootAttributes counts;
  counts.strings["nonfinite"] = NonfiniteName(dump.Nonfinite());
  counts.unsignedIntegers["nonfinite_zeroed"] = 0;
  for (const auto& t : totals) counts.unsignedIntegers["nonfinite_zeroed"] += t.nonfinite;
  writer.AddAttributes(counts);
  if (options.beforeCommit) options.beforeCommit(totals);
  out.Commit();
  return totals;
}

std::vector<LayerTotals> RunDecompress(const std::string& inPath, const std::string& outPath,
                                       const Progress& progress, const BeforeCommit& beforeCommit) {
  const MessageReader reader(inPath);
  const auto quantizer = BuiltinRegistry().Make(reader.Spec());
  const std::size_t workers = reader.Workers();
  const auto& layers = reader.Layers();
  const auto& steps = reader.Steps();

  RootAttributes attrs;
  attrs.strings["quantizer"] = reader.Spec();
  attrs.strings["source"] = inPath;
  attrs.strings["gradquant_tool_version"] = kVersion;
  attrs.unsignedIntegers["seed"] = reader.Seed();
  OutputFile out(outPath);
  DumpWriter writer(out, steps, workers, layers, attrs, /*withAggregate=*/true);

  std::vector<LayerTotals> totals;
  std::size_t done = 0;
  for (std::size_t li = 0; li < layers.size(); ++li) {
    LayerTotals t;
    t.name = layers[li].name;
    t.n = layers[li].n;
    std::unique_ptr<LayerState> state = quantizer->NewLayerState(layers[li]);
    for (std::size_t ri = 0; ri < steps.size(); ++ri) {
      SlabContext ctx;
      ctx.layer = &layers[li];
      ctx.seed = reader.Seed();
      ctx.step = static_cast<std::uint64_t>(steps[ri]);
      ctx.workers = static_cast<std::uint32_t>(workers);
      ctx.state = state.get();
      const std::vector<Message> encoded = reader.Read(li, ri);
      const GroupResult decoded = quantizer->DecodeGroup(encoded, ctx);
      if (state) quantizer->Observe(*state, decoded, ctx);
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
  if (beforeCommit) beforeCommit(totals);
  out.Commit();
  return totals;
}

}  // namespace gradquant
