// `gradquant analyze DUMP... [-q SPEC]...`: measured error against theory, bits, and how the
// gradients behave across workers. The math is in lib/gradquant/stats; this file parses,
// drives pipeline/analyze_job and prints. Output layout and columns: docs/cli.md#analyze.
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/pipeline/analyze_job.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::cli {
namespace {

constexpr std::size_t kMaxTrials = 1000000;

// clang-format off
const std::vector<std::string> kQuantizerColumns = {
    "quantizer", "ef", "layer", "record", "step", "n", "workers", "records", "bits",
    "bits_per_coord", "bits_ideal_per_coord", "ratio", "downlink_bits", "nmse", "nmse_ci",
    "nmse_theory", "theory_kind", "nmse_over_theory", "nmse_bound", "bias", "cosine", "agg_nmse",
    "ef_residual", "acc_nmse", "encode_gbps", "decode_gbps"};
// clang-format on

// clang-format off
const std::vector<std::string> kGradientColumns = {
    "layer", "record", "step", "n", "workers", "records", "norm", "mean_norm", "max_abs",
    "kurtosis", "laplace_scale", "gauss_sigma", "ks_laplace", "ks_gauss", "corr_mean", "corr_min",
    "corr_max", "corr_others", "sign_agree", "sign_agree_weighted", "topk_k", "topk_jaccard"};
// clang-format on

/** Which tables to print. */
struct Tables {
  bool quantizers;
  bool gradients;
};

Tables TablesOf(const cxxopts::ParseResult& args, bool haveSpecs) {
  std::string report = args["report"].as<std::string>();
  if (args.count("stats")) {
    if (args.count("report") && report != "stats") {
      throw SpecError("--stats contradicts --report " + report);
    }
    report = "stats";
  }
  if (report == "stats") return {false, true};
  if (report == "quantizers") {
    if (!haveSpecs) throw SpecError("--report quantizers needs at least one -q SPEC");
    return {true, false};
  }
  if (report == "both") return {haveSpecs, true};
  throw SpecError("--report " + report + ": expected quantizers, stats or both");
}

Cell Star(std::int64_t v) { return v < 0 ? Cell{std::string("*")} : Cell{v}; }

std::string Number(double x) {
  if (!std::isfinite(x)) return "null";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, res.ptr);
}

// The W×W matrix as a JSON array of rows, full precision, null for NaN.
RawJson MatrixJson(const arma::mat& m) {
  std::string s = "[";
  for (std::size_t a = 0; a < m.n_rows; ++a) {
    s += a ? ",[" : "[";
    for (std::size_t b = 0; b < m.n_cols; ++b) s += (b ? "," : "") + Number(m(a, b));
    s += "]";
  }
  return {s + "]"};
}

// Method stat keys of every row, sorted; a key equal to a fixed column gets a "stat_" prefix.
std::vector<std::pair<std::string, std::string>> StatColumns(
    const std::vector<QuantizerRow>& rows) {
  std::set<std::string> keys;
  for (const auto& row : rows) {
    for (const auto& kv : row.stats) keys.insert(kv.first);
  }
  const std::set<std::string> fixed(kQuantizerColumns.begin(), kQuantizerColumns.end());
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& key : keys) out.emplace_back(key, fixed.count(key) ? "stat_" + key : key);
  return out;
}

Report QuantizerReport(const AnalyzeResult& result, const std::vector<std::string>& specs) {
  std::vector<QuantizerRow> rows;
  for (const auto& r : result.quantizers) rows.push_back(r.tally.Finish());
  const auto statColumns = StatColumns(rows);
  std::vector<std::string> columns = kQuantizerColumns;
  for (const auto& kv : statColumns) columns.push_back(kv.second);
  Report report(columns);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = result.quantizers[i];
    const QuantizerRow& q = rows[i];
    std::vector<Cell> cells = {specs[r.quantizer],
                               FeedbackName(r.feedback.value_or(Feedback::kNone)),
                               r.key.layer,
                               Star(r.key.record),
                               Star(r.key.step),
                               r.tally.n,
                               r.tally.workers,
                               r.tally.records,
                               q.bits,
                               q.bitsPerCoord,
                               q.bitsIdealPerCoord,
                               q.ratio,
                               q.downlinkBits,
                               q.nmse,
                               q.nmseCi,
                               q.nmseTheory,
                               q.theoryKind,
                               q.nmseOverTheory,
                               q.nmseBound,
                               q.bias,
                               q.cosine,
                               q.aggNmse,
                               q.efResidual,
                               q.accNmse,
                               q.encodeGbps,
                               q.decodeGbps};
    for (const auto& kv : statColumns) {
      const auto it = q.stats.find(kv.first);
      cells.emplace_back(std::in_place_type<double>,
                         it == q.stats.end() ? std::nan("") : it->second);
    }
    report.Row(cells);
  }
  return report;
}

Report GradientReport(const AnalyzeResult& result, bool withMatrix) {
  std::vector<std::string> columns = kGradientColumns;
  if (withMatrix) columns.push_back("corr_matrix");
  Report report(columns);
  for (const auto& r : result.gradients) {
    const GradientStats s = r.summary.Finish();
    std::vector<Cell> cells = {
        r.key.layer,       Star(r.key.record), Star(r.key.step), r.summary.n,
        r.summary.workers, r.summary.records,  s.norm,           s.meanNorm,
        s.maxAbs,          s.kurtosis,         s.laplaceScale,   s.gaussSigma,
        s.ksLaplace,       s.ksGauss,          s.corrMean,       s.corrMin,
        s.corrMax,         s.corrOthers,       s.signAgree,      s.signAgreeWeighted,
        s.topkK,           s.topkJaccard};
    if (withMatrix) cells.push_back(MatrixJson(s.corr));
    report.Row(cells);
  }
  return report;
}

void AddOptions(cxxopts::Options& options) {
  options.positional_help("DUMP...");
  options.add_options()("inputs", "dump files (one dump, workers concatenated)",
                        cxxopts::value<std::vector<std::string>>())(
      "q,quantizer",
      "quantizer spec name[:key=value,...]; repeat for several (see 'gradquant "
      "list') (default: none)",
      cxxopts::value<std::string>())("trials",
                                     "independent runs R per quantizer; trial r uses seed + r",
                                     cxxopts::value<std::size_t>()->default_value("20"))(
      "seed", "shared random seed of trial 0 (= compress --seed)",
      cxxopts::value<std::uint64_t>()->default_value("0"))(
      "by",
      "rows per record (layer x record), layer (records pooled) or all (one row for the "
      "whole model)",
      cxxopts::value<std::string>()->default_value("layer"))(
      "report",
      "tables to print: quantizers, stats (gradient statistics) or both; both "
      "without -q prints stats only",
      cxxopts::value<std::string>()->default_value("both"))(
      "stats", "only the gradient statistics (same as --report stats)");
  AddFeedbackOption(options, /*list=*/true);
  AddDumpOptions(options);
  AddNonfiniteOption(options);
  options.parse_positional({"inputs"});
}

GroupBy GroupByOf(const std::string& text) {
  if (text == "record") return GroupBy::kRecord;
  if (text == "layer") return GroupBy::kLayer;
  if (text == "all") return GroupBy::kAll;
  throw SpecError("--by " + text + ": expected record, layer or all");
}

}  // namespace

int RunAnalyze(int argc, char** argv) {
  cxxopts::Options options("gradquant analyze",
                           "Measure quantizers over R independent trials against their theory "
                           "(bits, error, bias, aggregate error, speed) and summarise the "
                           "gradients (tails, fits, correlation across workers).");
  AddOptions(options);
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const auto inputs = Inputs(args, "dump file");
  const Format format = FormatOf(args);
  const GroupBy by = GroupByOf(args["by"].as<std::string>());
  const std::size_t trials = args["trials"].as<std::size_t>();
  if (trials < 1 || trials > kMaxTrials) {
    throw SpecError("--trials " + std::to_string(trials) + ": expected 1.." +
                    std::to_string(kMaxTrials));
  }
  const std::vector<Feedback> feedback = FeedbackOf(args);
  const std::vector<std::string> specArgs = Repeated(args, "quantizer");
  const Tables tables = TablesOf(args, !specArgs.empty());
  std::vector<std::unique_ptr<Quantizer>> owned;
  std::vector<const Quantizer*> quantizers;
  std::vector<std::string> specs;
  if (tables.quantizers) {
    for (const auto& spec : specArgs) {
      owned.push_back(MakeQuantizer(spec));
      quantizers.push_back(owned.back().get());
      specs.push_back(owned.back()->Spec());
      for (Feedback mode : feedback) CheckFeedback(mode, *owned.back());
    }
  }
  const Dump dump = Dump::Open(inputs, NonfiniteOf(args));
  const Selection sel = SelectFrom(dump, args);

  AnalyzeOptions opts;
  opts.seed = args["seed"].as<std::uint64_t>();
  opts.trials = trials;
  opts.gradientStats = tables.gradients;
  opts.feedback = feedback;
  opts.progress = ProgressLine("analyze");
  const AnalyzeResult result = Group(RunAnalyze(dump, quantizers, sel, opts), by);

  auto addMeta = [&](Report& report, const std::string& table, bool full) {
    report.Meta("table", table);
    if (!full) return;
    AddStandardMeta(report, "analyze");
    if (tables.quantizers) {
      report.Meta("quantizers", Join(specs, ";"));
      report.Meta("seed", std::uint64_t{opts.seed});
      report.Meta("trials", std::uint64_t{trials});
      report.Meta("trial_seed", "seed+r");
      if (!opts.feedback.empty()) {
        std::vector<std::string> modes;
        for (Feedback mode : opts.feedback) modes.push_back(FeedbackName(mode));
        report.Meta("ef", Join(modes));
      }
    }
    report.Meta("by", args["by"].as<std::string>());
    report.Meta("inputs", Join(inputs));
    report.Meta("workers", std::uint64_t{dump.Workers()});
    report.Meta("nonfinite", NonfiniteName(dump.Nonfinite()));
  };
  std::vector<std::pair<std::string, Report>> reports;
  if (tables.quantizers) {
    reports.emplace_back("quantizers", QuantizerReport(result, specs));
    addMeta(reports.back().second, "quantizers", true);
  }
  if (tables.gradients) {
    reports.emplace_back("gradients", GradientReport(result, format != Format::kTable));
    addMeta(reports.back().second, "gradients", reports.size() == 1);
  }
  // Table: the tables one after another, a blank line between. CSV: one section per table,
  // each opened by its "# table=..." line. JSON: {"quantizers": {...}, "gradients": {...}}.
  WarnNonfinite(dump);
  if (format != Format::kJson) {
    for (std::size_t i = 0; i < reports.size(); ++i) {
      if (format == Format::kTable && i) std::cout << '\n';
      reports[i].second.Print(std::cout, format);
    }
    return kExitOk;
  }
  std::ostringstream json;
  json << '{';
  for (std::size_t i = 0; i < reports.size(); ++i) {
    std::ostringstream one;
    reports[i].second.Print(one, format);
    std::string text = one.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    json << (i ? ",\n\"" : "\"") << reports[i].first << "\": " << text;
  }
  json << "}\n";
  std::cout << json.str() << std::flush;
  if (!std::cout) throw IoError("stdout: write failed");
  return kExitOk;
}

}  // namespace gradquant::cli
