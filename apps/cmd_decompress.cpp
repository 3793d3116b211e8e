// `gradquant decompress OUT.h5 -o RECON.h5`: rebuild the gradients from stored messages alone.
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"

namespace gradquant::cli {

int RunDecompress(int argc, char** argv) {
  cxxopts::Options options("gradquant decompress",
                           "Rebuild the gradients and aggregates of a compressed file from its "
                           "stored messages alone; the result equals what compress wrote.");
  options.positional_help("COMPRESSED.h5");
  options.add_options()("inputs", "compressed file", cxxopts::value<std::vector<std::string>>())(
      "o,output", "output dump (.h5), written only when complete", cxxopts::value<std::string>());
  AddFormatOption(options);
  options.parse_positional({"inputs"});
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const auto inputs = Inputs(args, "compressed file");
  if (inputs.size() != 1) throw SpecError("decompress takes exactly one compressed file");
  if (!args.count("output")) throw SpecError("decompress needs -o RECON.h5");
  const Format format = FormatOf(args);
  const std::string out = args["output"].as<std::string>();
  CheckOutputIsNotInput(out, inputs);
  // The report is printed before the output is committed: if stdout fails, nothing is left.
  auto print = [&](const std::vector<LayerTotals>& totals) {
    Report report({"layer", "n", "records", "bits", "bits_per_coord", "downlink_bits"});
    AddStandardMeta(report, "decompress");
    report.Meta("inputs", inputs[0]);
    report.Meta("output", out);
    for (const auto& t : totals) {
      const double coords = static_cast<double>(t.n) * static_cast<double>(t.slabs);
      report.Row(
          {t.name, t.n, t.records, t.bits, static_cast<double>(t.bits) / coords, t.downlinkBits});
    }
    report.Print(std::cout, format);
  };
  gradquant::RunDecompress(inputs[0], out, ProgressLine("decompress"), print);
  return kExitOk;
}

}  // namespace gradquant::cli
