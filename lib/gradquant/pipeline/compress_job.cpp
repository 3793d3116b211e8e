#include "gradquant/pipeline/compress_job.hpp"

#include <cmath>
#include <memory>

#include "gradquant/core/version.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant {
namespace {

double SquaredDistance(const arma::fvec& a, const arma::fvec& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.n_elem; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += d * d;
  }
  return sum;
}

double SquaredNorm(const arma::fvec& a) {
  double sum = 0.0;
  for (float x : a) sum += static_cast<double>(x) * x;
  return sum;
}

// ||out - truth||^2, or for sign outputs the error of the best scalar fit c* out.
double ErrorSq(const arma::fvec& out, const arma::fvec& truth, bool signOutput) {
  if (!signOutput) return SquaredDistance(out, truth);
  double dot = 0.0;
  for (std::size_t i = 0; i < out.n_elem; ++i) dot += static_cast<double>(out[i]) * truth[i];
  const double outSq = SquaredNorm(out), truthSq = SquaredNorm(truth);
  return outSq > 0 ? std::max(0.0, truthSq - dot * dot / outSq) : truthSq;
}

arma::fvec Mean(const std::vector<arma::fvec>& slabs) {
  arma::vec sum(slabs.at(0).n_elem, arma::fill::zeros);
  for (const auto& s : slabs) sum += arma::conv_to<arma::vec>::from(s);
  return arma::conv_to<arma::fvec>::from(sum / static_cast<double>(slabs.size()));
}

void AddStats(SlabStats& into, const SlabStats& from) {
  for (const auto& [key, value] : from) into[key] += value;
}

// Turns the summed per-record stats into means over records.
void FinishStats(LayerTotals& t) {
  for (auto& [key, value] : t.stats) value /= static_cast<double>(std::max<std::uint64_t>(1, t.records));
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
  if (theoryKind != o.theoryKind) theoryKind = (theoryKind == "none" || o.theoryKind == "none")
                                                   ? "none" : "bound";
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
    bool allExact = true, allTheory = true;
    std::unique_ptr<LayerState> state = quantizer.NewLayerState(layer);
    for (std::size_t ri = 0; ri < steps.size(); ++ri) {
      std::vector<arma::fvec> slabs(workers);
      for (std::size_t w = 0; w < workers; ++w) {
        std::uint64_t zeroed = 0;
        slabs[w] = dump.ReadSlab(selection.layers[li], selection.records[ri], w, &zeroed);
        t.nonfinite += zeroed;
      }
      SlabContext ctx;
      ctx.layer = &layer;
      ctx.seed = options.seed;
      ctx.step = static_cast<std::uint64_t>(steps[ri]);
      ctx.workers = static_cast<std::uint32_t>(workers);
      ctx.state = state.get();
      SlabStats stats;
      const std::vector<Message> encoded = quantizer.EncodeGroup(slabs, ctx, &stats);
      const GroupResult decoded = quantizer.DecodeGroup(encoded, ctx);
      if (state) quantizer.Observe(*state, decoded, ctx);
      quantizer.Diagnose(slabs, decoded, ctx, &stats);
      AddStats(stats, decoded.stats);
      AddStats(t.stats, stats);
      messages.Write(li, ri, encoded, decoded.downlinkBits);
      for (std::size_t w = 0; w < workers; ++w) {
        writer.WriteSlab(li, ri, w, decoded.workers[w].memptr());
        t.bits += encoded[w].bits;
        t.errorSq += ErrorSq(decoded.workers[w], slabs[w], quantizer.SignOutput());
        t.normSq += SquaredNorm(slabs[w]);
        const Theory theory = quantizer.ExpectedError(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
        allTheory = allTheory && !std::isnan(theory.Value());
        allExact = allExact && !std::isnan(theory.exact);
        if (!std::isnan(theory.Value())) t.theorySq += theory.Value();
      }
      writer.WriteAggregate(li, ri, decoded.aggregate.memptr());
      const arma::fvec mean = Mean(slabs);
      t.aggErrorSq += ErrorSq(decoded.aggregate, mean, quantizer.SignOutput());
      t.aggNormSq += SquaredNorm(mean);
      t.downlinkBits += decoded.downlinkBits;
      t.slabs += workers;
      ++t.records;
      if (options.progress) options.progress(++done, units);
    }
    t.theoryKind = !allTheory ? "none" : (allExact ? "exact" : "bound");
    FinishStats(t);
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
