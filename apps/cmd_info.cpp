// `gradquant info DUMP...`: what a dump holds.
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"

namespace gradquant::cli {

int RunInfo(int argc, char** argv) {
  cxxopts::Options options("gradquant info",
                           "Show the records, workers, layers and attributes of a dump.");
  options.positional_help("DUMP...");
  options.add_options()("inputs", "dump files (one dump, workers concatenated)",
                        cxxopts::value<std::vector<std::string>>());
  AddDumpOptions(options);
  options.parse_positional({"inputs"});
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const auto inputs = Inputs(args, "dump file");
  const Dump dump = Dump::Open(inputs);
  const Selection sel = SelectFrom(dump, args);

  Report report({"layer", "index", "shape", "n"});
  AddStandardMeta(report, "info");
  report.Meta("inputs", Join(inputs));
  report.Meta("records", std::uint64_t{sel.records.size()});
  report.Meta("records_in_dump", std::uint64_t{dump.Records()});
  report.Meta("workers", std::uint64_t{dump.Workers()});
  std::vector<std::string> steps;
  for (std::size_t r : sel.records) steps.push_back(std::to_string(dump.Steps()[r]));
  report.Meta("steps", Join(steps));
  for (const auto& file : dump.Files()) {
    for (const auto& [key, value] : file.attributes) report.Meta(file.path + ":" + key, value);
  }
  std::uint64_t total = 0;
  for (std::size_t l : sel.layers) {
    const LayerInfo& layer = dump.Layers()[l];
    std::vector<std::string> dims;
    for (auto d : layer.shape) dims.push_back(std::to_string(d));
    report.Row({layer.name, std::uint64_t{layer.index}, Join(dims, "x"), layer.n});
    total += layer.n;
  }
  report.Row({std::string("*"), std::string(""), std::string(""), total});
  report.Print(std::cout, FormatOf(args));
  return kExitOk;
}

}  // namespace gradquant::cli
