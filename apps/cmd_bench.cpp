// `gradquant bench`: encode/decode throughput against the machine's memory bandwidth.
#include <omp.h>

#include <charconv>
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/bench/throughput.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant::cli {
namespace {

// Laplace(0, 1) values from the project's generator: what gradients look like.
arma::fvec SyntheticSlab(std::size_t n, std::uint32_t worker) {
  const Rng rng({0, 0, worker, 0}, Purpose::kTest);
  arma::fvec g(n);
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.Uniform(i) - 0.5;
    const double mag = -std::log(1.0 - 2.0 * std::fabs(u));
    g[i] = static_cast<float>(u < 0 ? -mag : mag);
  }
  return g;
}

// The synthetic input is W slabs of N float32 values held at once: bound it well inside memory.
constexpr std::uint64_t kMaxSyntheticValues = std::uint64_t{1} << 31;  // 8 GiB of float32
constexpr std::uint32_t kMaxSyntheticWorkers = 4096;

// "4096x4096" -> {4096, 4096}; empty -> {size}. Every extent and their product is bounded.
std::vector<std::uint64_t> ParseShape(const std::string& text, std::size_t size) {
  if (text.empty()) {
    if (size == 0) throw SpecError("--size must be positive");
    if (size > kMaxSyntheticValues) {
      throw SpecError("--size " + std::to_string(size) + " is too large (at most " +
                      std::to_string(kMaxSyntheticValues) + ")");
    }
    return {size};
  }
  std::vector<std::uint64_t> shape;
  std::uint64_t product = 1;
  std::size_t start = 0;
  while (true) {
    const auto x = text.find('x', start);
    const std::string part = text.substr(start, x == std::string::npos ? x : x - start);
    std::uint64_t d = 0;
    const auto res = std::from_chars(part.data(), part.data() + part.size(), d);
    if (part.empty() || res.ptr != part.data() + part.size() || res.ec != std::errc() || d == 0) {
      throw SpecError("--shape '" + text + "': expected positive extents like 4096x4096");
    }
    if (__builtin_mul_overflow(product, d, &product) || product > kMaxSyntheticValues) {
      throw SpecError("--shape '" + text + "': more than " + std::to_string(kMaxSyntheticValues) +
                      " values");
    }
    shape.push_back(d);
    if (x == std::string::npos) return shape;
    start = x + 1;
  }
}

std::vector<std::string> DefaultSpecs() {
  std::vector<std::string> specs;
  for (const auto& name : BuiltinRegistry().Names()) specs.push_back(name);
  return specs;
}

}  // namespace

int RunBench(int argc, char** argv) {
  cxxopts::Options options("gradquant bench",
                           "Encode and decode throughput of quantizers (GB/s of float32 input, "
                           "median of repeated runs after a warm-up) next to the machine's "
                           "single-core memory read bandwidth, on a dump's slabs or on synthetic "
                           "Laplace data.");
  options.positional_help("[DUMP...]");
  options.add_options()("inputs", "dump files (default: synthetic data)",
                        cxxopts::value<std::vector<std::string>>())(
      "q,quantizer", "quantizer spec, repeatable (default: every quantizer with its defaults)",
      cxxopts::value<std::vector<std::string>>())(
      "size", "synthetic slab size in elements",
      cxxopts::value<std::size_t>()->default_value("16777216"))(
      "shape",
      "synthetic layer shape instead of a vector of --size, e.g. 4096x4096 or "
      "512x512x8x8 (matrix methods such as powersgd and gradiveq need 2-D or 4-D)",
      cxxopts::value<std::string>())("workers", "synthetic workers",
                                     cxxopts::value<std::uint32_t>()->default_value("1"))(
      "threads", "OpenMP threads", cxxopts::value<int>()->default_value("1"))(
      "repeat", "timed runs per measurement, after one warm-up",
      cxxopts::value<int>()->default_value("5"))(
      "membw-mib", "buffer for the memory bandwidth reference, MiB (far above the caches)",
      cxxopts::value<std::size_t>()->default_value("512"))(
      "cpu-time",
      "time with this thread's CPU clock, not the wall clock (--threads 1 only): "
      "for a machine shared with other jobs; the bandwidth reference stays wall time");
  AddDumpOptions(options);
  AddNonfiniteOption(options);
  options.parse_positional({"inputs"});
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const Format format = FormatOf(args);
  const int threads = args["threads"].as<int>(), repeat = args["repeat"].as<int>();
  if (threads < 1 || threads > MaxUsefulThreads()) {
    throw SpecError("--threads " + std::to_string(threads) + " is out of range (1 to " +
                    std::to_string(MaxUsefulThreads()) + ", 4 per core)");
  }
  if (repeat < 1) throw SpecError("--repeat must be at least 1");
  const bool cpuTime = args.count("cpu-time") > 0;
  if (cpuTime && threads != 1) throw SpecError("--cpu-time needs --threads 1");
  omp_set_num_threads(threads);
  const auto specs = args.count("quantizer") ? Repeated(args, "quantizer") : DefaultSpecs();
  std::vector<std::unique_ptr<Quantizer>> quantizers;
  for (const auto& s : specs) quantizers.push_back(MakeQuantizer(s));

  // The groups to time: every selected layer of the dump at the selected records, or one
  // synthetic layer.
  std::vector<std::pair<LayerInfo, std::vector<arma::fvec>>> groups;
  std::string source;
  if (args.count("inputs")) {
    const auto inputs = Repeated(args, "inputs");
    const Dump dump = Dump::Open(inputs, NonfiniteOf(args));
    const Selection sel = SelectFrom(dump, args);
    for (std::size_t l : sel.layers) {
      for (std::size_t r : sel.records) {
        std::vector<arma::fvec> slabs;
        for (std::size_t w = 0; w < dump.Workers(); ++w) slabs.push_back(dump.ReadSlab(l, r, w));
        groups.emplace_back(dump.Layers()[l], std::move(slabs));
      }
    }
    WarnNonfinite(dump);
    source = Join(inputs);
  } else {
    LayerInfo layer;
    layer.name = "synthetic";
    layer.shape = ParseShape(TextOr(args, "shape", ""), args["size"].as<std::size_t>());
    layer.n = 1;
    for (std::uint64_t d : layer.shape) layer.n *= d;
    const std::size_t n = layer.n;
    const std::uint32_t workers = args["workers"].as<std::uint32_t>();
    if (workers == 0 || workers > kMaxSyntheticWorkers) {
      throw SpecError("--workers " + std::to_string(workers) + " is out of range (1 to " +
                      std::to_string(kMaxSyntheticWorkers) + ")");
    }
    if (n * workers > kMaxSyntheticValues) {
      throw SpecError("--workers " + std::to_string(workers) + " times N = " + std::to_string(n) +
                      " is more than " + std::to_string(kMaxSyntheticValues) + " values");
    }
    std::vector<arma::fvec> slabs;
    for (std::uint32_t w = 0; w < workers; ++w) {
      slabs.push_back(SyntheticSlab(n, w));
    }
    groups.emplace_back(layer, std::move(slabs));
    const std::string shapeText = TextOr(args, "shape", "");
    source = "synthetic Laplace(0,1), n=" + std::to_string(n) +
             (shapeText.empty() ? std::string() : ", shape " + shapeText);
  }
  const std::size_t membwMib = args["membw-mib"].as<std::size_t>();
  if (membwMib == 0) throw SpecError("--membw-mib must be positive");
  const double membw = MeasureReadBandwidth(membwMib << 20, 5);

  Report report({"quantizer", "n", "threads", "bits_per_coord", "encode_gbps", "decode_gbps",
                 "membw_gbps", "encode_frac", "decode_frac"});
  AddStandardMeta(report, "bench");
  report.Meta("inputs", source);
  report.Meta("threads", std::int64_t{threads});
  report.Meta("repeat", std::int64_t{repeat});
  report.Meta("clock", cpuTime ? "thread cpu time" : "wall");
  const Progress progress = ProgressLine("bench");
  std::size_t done = 0;
  for (const auto& q : quantizers) {
    Throughput total;
    std::uint64_t coords = 0;
    for (const auto& [layer, slabs] : groups) {
      total.Add(MeasureThroughput(*q, layer, slabs, repeat, cpuTime));
      coords += layer.n * slabs.size();
    }
    if (progress) progress(++done, quantizers.size());
    report.Row({q->Spec(), coords, std::int64_t{threads}, total.bits / static_cast<double>(coords),
                total.EncodeGbps(), total.DecodeGbps(), membw, total.EncodeGbps() / membw,
                total.DecodeGbps() / membw});
  }
  report.Print(std::cout, format);
  return kExitOk;
}

}  // namespace gradquant::cli
