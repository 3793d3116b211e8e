#include "gradquant/pipeline/compress_job.hpp"

#include <omp.h>

#include <atomic>
#include <cmath>
#include <exception>
#include <map>
#include <memory>
#include <mutex>

#include "gradquant/core/memory.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/io/hdf5_lock.hpp"
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

namespace {

// One (layer, record) of a compress run as it moves through the pipeline.
struct Item {
  std::size_t li = 0, ri = 0;
  std::vector<arma::fvec> slabs;  // read; freed once computed
  std::vector<Message> encoded;
  GroupResult decoded;
  SlabStats stats;
  std::vector<Theory> theory;
  std::vector<double> errorSq, normSq;
  double aggErrorSq = 0, aggNormSq = 0;
  std::uint64_t nonfinite = 0;  // NaN/Inf values zeroed while reading
  std::exception_ptr error;  // the first failure of this item's stages
};

}  // namespace

std::vector<LayerTotals> RunCompress(const Dump& dump, const Quantizer& quantizer,
                                     const Selection& selection, const CompressOptions& options) {
  std::vector<LayerInfo> layers;
  for (std::size_t l : selection.layers) layers.push_back(dump.Layers()[l]);
  std::vector<std::int64_t> steps;
  for (std::size_t r : selection.records) steps.push_back(dump.Steps()[r]);
  const std::size_t workers = dump.Workers();

  // Slab-sized blocks come and go for every item: keep freed memory for reuse instead of
  // mapping and faulting in fresh pages each time (the peak resident size is unchanged).
  RetainFreedMemory();
  OutputFile out(options.outPath);
  DumpWriter writer(out, steps, workers, layers, options.attributes, /*withAggregate=*/true);
  MessageWriter messages(out, steps, workers, layers, quantizer.Spec(), options.seed);

  // The (layer, record) items run as a pipeline of OpenMP tasks: read (side by side, see
  // Dump::ReadSlab), compute (encode, decode, theory, errors: items of different layers, or of a stateless
  // method, side by side, each spreading its loops over free threads), write (HDF5, in item
  // order, where the totals are summed too). Every number is computed exactly as in a plain
  // loop and summed in item order, so the output does not depend on the thread count. At most
  // threads + 1 items are in flight, so memory stays a few slabs whatever the dump's size.
  const std::size_t items = layers.size() * steps.size();
  std::vector<Item> work(items);
  std::vector<std::unique_ptr<LayerState>> states(layers.size());
  std::vector<char> stateful(layers.size());
  for (std::size_t li = 0; li < layers.size(); ++li) {
    stateful[li] = quantizer.NewLayerState(layers[li]) != nullptr;
  }
  std::vector<LayerTotals> totals(layers.size());
  std::vector<std::map<std::string, std::uint64_t>> reported(layers.size());
  std::atomic<std::size_t> failedAt{items};  // lowest item with an error: later ones stop
  std::size_t done = 0;
  std::vector<char> readDone(items), computed(items), written(items);
  char none = 0;  // a dependence on nothing

  auto stage = [&](std::size_t j, auto&& body) {
    Item& item = work[j];
    if (item.error || j > failedAt.load()) return;
    try {
      body(item);
    } catch (...) {
      item.error = std::current_exception();
      std::size_t seen = failedAt.load();
      while (j < seen && !failedAt.compare_exchange_weak(seen, j)) {
      }
    }
  };
  auto read = [&](Item& item) {
    item.slabs.resize(workers);
    for (std::size_t w = 0; w < workers; ++w) {
      std::uint64_t zeroed = 0;
      item.slabs[w] = dump.ReadSlab(selection.layers[item.li], selection.records[item.ri], w,
                                    &zeroed);
      item.nonfinite += zeroed;
    }
  };
  auto compute = [&](Item& item) {
    const LayerInfo& layer = layers[item.li];
    if (item.ri == 0 && stateful[item.li]) states[item.li] = quantizer.NewLayerState(layer);
    LayerState* state = states[item.li].get();
    SlabContext ctx;
    ctx.layer = &layer;
    ctx.seed = options.seed;
    ctx.step = static_cast<std::uint64_t>(steps[item.ri]);
    ctx.workers = static_cast<std::uint32_t>(workers);
    ctx.state = state;
    const std::vector<arma::fvec>& slabs = item.slabs;
    item.encoded = quantizer.EncodeGroup(slabs, ctx, &item.stats);
    item.decoded = quantizer.DecodeGroup(item.encoded, ctx);
    quantizer.Diagnose(slabs, item.decoded, ctx, &item.stats);
    AddStats(item.stats, item.decoded.stats);
    item.theory.resize(workers);
    item.errorSq.resize(workers);
    item.normSq.resize(workers);
    ParallelFor(workers, [&](std::size_t w) {
      item.theory[w] = quantizer.ExpectedError(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
      FitErrorAndNormSq(item.decoded.workers[w], slabs[w], quantizer.SignOutput(),
                        &item.errorSq[w], &item.normSq[w]);
    });
    // The state moves on only after everything about this record used the state it was
    // encoded with.
    if (state) quantizer.Observe(*state, item.decoded, ctx);
    if (item.ri + 1 == steps.size()) states[item.li].reset();
    const arma::fvec mean = MeanOf(slabs);
    item.aggErrorSq = FitErrorSq(item.decoded.aggregate, mean, quantizer.SignOutput());
    item.aggNormSq = SquaredNorm(mean);
    item.slabs = {};
  };
  auto write = [&](Item& item) {
    LayerTotals& t = totals[item.li];
    AddStats(t.stats, item.stats);
    for (const auto& entry : item.stats) ++reported[item.li][entry.first];
    {
      std::lock_guard<std::mutex> lock(Hdf5Lock());
      messages.Write(item.li, item.ri, item.encoded, item.decoded.downlinkBits);
      for (std::size_t w = 0; w < workers; ++w) {
        writer.WriteSlab(item.li, item.ri, w, item.decoded.workers[w].memptr());
      }
      writer.WriteAggregate(item.li, item.ri, item.decoded.aggregate.memptr());
    }
    for (std::size_t w = 0; w < workers; ++w) {
      t.bits += item.encoded[w].bits;
      t.errorSq += item.errorSq[w];
      t.normSq += item.normSq[w];
      t.theoryKind = CombineTheoryKinds(t.theoryKind, item.theory[w].Kind());
      if (!std::isnan(item.theory[w].Value())) t.theorySq += item.theory[w].Value();
    }
    t.nonfinite += item.nonfinite;
    t.aggErrorSq += item.aggErrorSq;
    t.aggNormSq += item.aggNormSq;
    t.downlinkBits += item.decoded.downlinkBits;
    t.slabs += workers;
    ++t.records;
    if (item.ri + 1 == steps.size()) FinishStats(t, reported[item.li]);
    if (options.progress) options.progress(++done, items);
    const std::size_t li = item.li, ri = item.ri;
    item = Item{};  // the memory goes with the item
    item.li = li;
    item.ri = ri;
  };

  for (std::size_t j = 0; j < items; ++j) {
    work[j].li = j / steps.size();
    work[j].ri = j % steps.size();
  }
  for (std::size_t li = 0; li < layers.size(); ++li) {
    totals[li].name = layers[li].name;
    totals[li].n = layers[li].n;
  }
  // Task graph. R_j reads item j, C_j computes it (after R_j, and after C_{j-1} when the layer
  // keeps state), W_j writes it (after C_j and W_{j-1}, so writes go out in item order). R_{j+L}
  // waits for W_j (L = threads), so at most about L + 1 items hold memory; reads of different
  // items overlap each other and the writes.
  const std::size_t lookahead = std::max<std::size_t>(1, static_cast<std::size_t>(omp_get_max_threads()));
  [[maybe_unused]] char writeToken = 0;
  // Defined outside the parallel region: its tasks reach stage and read through this closure,
  // which must outlive them (a closure inside the single block dies before the barrier that
  // waits for the tasks; libomp then reads a dead stack frame).
  auto readAndCompute = [&](std::size_t j) {
    // GCC does not count a use in a depend clause, hence [[maybe_unused]].
    [[maybe_unused]] char* previousCompute =
        j > 0 && work[j].ri > 0 && stateful[work[j].li] ? &computed[j - 1] : &none;
    [[maybe_unused]] char* freedSlot = j >= lookahead ? &written[j - lookahead] : &none;
    [[maybe_unused]] char* thisRead = &readDone[j];
    [[maybe_unused]] char* thisCompute = &computed[j];
#pragma omp task depend(in : freedSlot[0]) depend(out : thisRead[0])
    stage(j, read);
#pragma omp task depend(in : thisRead[0], previousCompute[0]) depend(out : thisCompute[0])
    stage(j, compute);
  };
#pragma omp parallel
#pragma omp single
  {
    for (std::size_t j = 0; j < std::min(lookahead, items); ++j) readAndCompute(j);
    for (std::size_t j = 0; j < items; ++j) {
      [[maybe_unused]] char* thisCompute = &computed[j];
      [[maybe_unused]] char* thisWrite = &written[j];
#pragma omp task depend(inout : writeToken) depend(in : thisCompute[0]) depend(out : thisWrite[0])
      stage(j, write);
      if (j + lookahead < items) readAndCompute(j + lookahead);
    }
  }
  for (const Item& item : work) {
    if (item.error) std::rethrow_exception(item.error);
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
