// `gradquant compress DUMP... -q SPEC -o OUT.h5`: encode, store, decode, report.
#include <cmath>
#include <iostream>
#include <set>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::cli {
namespace {

double Ratio(double a, double b) { return b > 0 ? a / b : std::nan(""); }

// Per-method stats other than the entropy size, which has its own column.
std::set<std::string> ExtraStatKeys(const std::vector<LayerTotals>& totals) {
  std::set<std::string> keys;
  for (const auto& t : totals) {
    for (const auto& [key, value] : t.stats) {
      if (key != "bits_entropy") keys.insert(key);
    }
  }
  return keys;
}

// One row per layer and a whole-model row "*"; the columns: docs/cli.md#compress.
void PrintReport(const std::vector<LayerTotals>& totals, const Quantizer& q, const Dump& dump,
                 const CompressOptions& opts, const std::vector<std::string>& inputs,
                 Format format) {
  const auto extra = ExtraStatKeys(totals);
  std::vector<std::string> columns = {
      "quantizer",   "ef",       "seed",          "layer",          "n",
      "records",     "workers",  "bits",          "bits_per_coord", "bits_entropy_per_coord",
      "ratio",       "nmse",     "nmse_theory",   "theory_kind",    "agg_nmse",
      "ef_residual", "acc_nmse", "downlink_bits", "nonfinite"};
  columns.insert(columns.end(), extra.begin(), extra.end());
  Report report(columns);
  AddStandardMeta(report, "compress");
  report.Meta("quantizer", q.Spec());
  report.Meta("ef", FeedbackName(opts.feedback.value_or(Feedback::kNone)));
  report.Meta("seed", std::uint64_t{opts.seed});
  report.Meta("inputs", Join(inputs));
  report.Meta("nonfinite", NonfiniteName(dump.Nonfinite()));
  report.Meta("output", opts.outPath);

  LayerTotals all;
  all.name = "*";
  for (const auto& t : totals) all.Add(t);
  auto row = [&](const LayerTotals& t, bool whole) {
    const double coords = static_cast<double>(t.n) * static_cast<double>(t.records) *
                          static_cast<double>(dump.Workers());
    auto entropy = t.stats.find("bits_entropy");
    double entropyPerCoord = std::nan("");
    if (!whole && entropy != t.stats.end())
      entropyPerCoord = Ratio(entropy->second, static_cast<double>(t.n));
    const bool measured = opts.feedback.has_value();
    std::vector<Cell> cells = {q.Spec(),
                               FeedbackName(opts.feedback.value_or(Feedback::kNone)),
                               opts.seed,
                               t.name,
                               t.n,
                               t.records,
                               std::uint64_t{dump.Workers()},
                               t.bits,
                               Ratio(static_cast<double>(t.bits), coords),
                               entropyPerCoord,
                               Ratio(32.0 * coords, static_cast<double>(t.bits)),
                               Ratio(t.errorSq, t.normSq),
                               t.theoryKind == "none" ? std::nan("") : Ratio(t.theorySq, t.normSq),
                               t.theoryKind,
                               Ratio(t.aggErrorSq, t.aggNormSq),
                               measured ? Ratio(t.residualSq, t.gradientNormSq) : std::nan(""),
                               measured ? Ratio(t.accErrorSq, t.accMeanNormSq) : std::nan(""),
                               t.downlinkBits,
                               t.nonfinite};
    for (const auto& key : extra) {
      const auto it = t.stats.find(key);
      cells.push_back(whole || it == t.stats.end() ? std::nan("") : it->second);
    }
    report.Row(cells);
  };
  for (const auto& t : totals) row(t, false);
  if (totals.size() > 1) row(all, true);
  report.Print(std::cout, format);
}

}  // namespace

int RunCompress(int argc, char** argv) {
  cxxopts::Options options("gradquant compress",
                           "Encode every (record, worker, layer) of a dump, store the messages, "
                           "decode them from their bytes and report bits and error per layer.");
  options.positional_help("DUMP...");
  options.add_options()("inputs", "dump files", cxxopts::value<std::vector<std::string>>())(
      "q,quantizer", "quantizer spec name[:key=value,...] (see 'gradquant list')",
      cxxopts::value<std::string>())("o,output", "output file (.h5), written only when complete",
                                     cxxopts::value<std::string>())(
      "seed", "shared random seed", cxxopts::value<std::uint64_t>()->default_value("0"));
  AddFeedbackOption(options, /*list=*/false);
  AddDumpOptions(options);
  AddNonfiniteOption(options);
  options.parse_positional({"inputs"});
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  if (!args.count("quantizer")) throw SpecError("compress needs -q SPEC");
  if (!args.count("output")) throw SpecError("compress needs -o OUT.h5");
  const auto inputs = Inputs(args, "dump file");
  const Format format = FormatOf(args);
  const NonfinitePolicy nonfinite = NonfiniteOf(args);
  const auto quantizer = MakeQuantizer(args["quantizer"].as<std::string>());
  const std::optional<Feedback> feedback = OneFeedbackOf(args);
  if (feedback) CheckFeedback(*feedback, *quantizer);
  CheckOutputIsNotInput(args["output"].as<std::string>(), inputs);
  const Dump dump = Dump::Open(inputs, nonfinite);
  const Selection sel = SelectFrom(dump, args);

  CompressOptions opts;
  opts.seed = args["seed"].as<std::uint64_t>();
  opts.feedback = feedback;
  opts.outPath = args["output"].as<std::string>();
  opts.attributes.strings["source"] = Join(inputs);
  opts.attributes.strings["gradquant_tool_version"] = kVersion;
  opts.progress = ProgressLine("compress");
  // The report is printed before the output is committed: if stdout fails, nothing is left.
  opts.beforeCommit = [&](const std::vector<LayerTotals>& totals) {
    WarnNonfinite(dump);
    PrintReport(totals, *quantizer, dump, opts, inputs, format);
  };
  gradquant::RunCompress(dump, *quantizer, sel, opts);
  return kExitOk;
}

}  // namespace gradquant::cli
