// `gradquant bench`: encode/decode throughput against the machine's memory bandwidth.
#include <omp.h>

#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/bench/throughput.hpp"
#include "gradquant/core/error.hpp"
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
      "q,quantizer", "quantizer spec, repeatable [default: every quantizer with its defaults]",
      cxxopts::value<std::vector<std::string>>())(
      "size", "synthetic slab size in elements [default: 16777216]",
      cxxopts::value<std::size_t>()->default_value("16777216"))(
      "workers", "synthetic workers [default: 1]", cxxopts::value<std::uint32_t>()->default_value("1"))(
      "threads", "OpenMP threads [default: 1]", cxxopts::value<int>()->default_value("1"))(
      "repeat", "timed runs per measurement, after one warm-up [default: 5]",
      cxxopts::value<int>()->default_value("5"));
  AddDumpOptions(options);
  options.parse_positional({"inputs"});
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const Format format = FormatOf(args);
  const int threads = args["threads"].as<int>(), repeat = args["repeat"].as<int>();
  if (threads < 1) throw SpecError("--threads must be at least 1");
  if (repeat < 1) throw SpecError("--repeat must be at least 1");
  omp_set_num_threads(threads);
  const auto specs = args.count("quantizer") ? args["quantizer"].as<std::vector<std::string>>()
                                             : DefaultSpecs();
  std::vector<std::unique_ptr<Quantizer>> quantizers;
  for (const auto& s : specs) quantizers.push_back(BuiltinRegistry().Make(s));

  // The groups to time: every selected layer of the dump at the selected records, or one
  // synthetic layer.
  std::vector<std::pair<LayerInfo, std::vector<arma::fvec>>> groups;
  std::string source;
  if (args.count("inputs")) {
    const auto inputs = args["inputs"].as<std::vector<std::string>>();
    const Dump dump = Dump::Open(inputs);
    const Selection sel = SelectFrom(dump, args);
    for (std::size_t l : sel.layers) {
      for (std::size_t r : sel.records) {
        std::vector<arma::fvec> slabs;
        for (std::size_t w = 0; w < dump.Workers(); ++w) slabs.push_back(dump.ReadSlab(l, r, w));
        groups.emplace_back(dump.Layers()[l], std::move(slabs));
      }
    }
    source = Join(inputs);
  } else {
    const std::size_t n = args["size"].as<std::size_t>();
    if (n == 0) throw SpecError("--size must be positive");
    LayerInfo layer;
    layer.name = "synthetic";
    layer.n = n;
    layer.shape = {n};
    std::vector<arma::fvec> slabs;
    for (std::uint32_t w = 0; w < args["workers"].as<std::uint32_t>(); ++w) {
      slabs.push_back(SyntheticSlab(n, w));
    }
    groups.emplace_back(layer, std::move(slabs));
    source = "synthetic Laplace(0,1), n=" + std::to_string(n);
  }
  const double membw = MeasureReadBandwidth(std::size_t{1} << 29, 5);

  Report report({"quantizer", "n", "threads", "bits_per_coord", "encode_gbps", "decode_gbps",
                 "membw_gbps", "encode_frac", "decode_frac"});
  AddStandardMeta(report, "bench");
  report.Meta("inputs", source);
  report.Meta("threads", std::to_string(threads));
  report.Meta("repeat", std::to_string(repeat));
  const Progress progress = ProgressLine("bench");
  std::size_t done = 0;
  for (const auto& q : quantizers) {
    Throughput total;
    std::uint64_t coords = 0;
    for (const auto& [layer, slabs] : groups) {
      total.Add(MeasureThroughput(*q, layer, slabs, repeat));
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
