// `gradquant optimize DUMP...`: TNQ truncation thresholds against their empirical optimum, and
// the best spec of each quantizer family under a budget of bits per coordinate.
#include <cmath>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/optimize/frontier.hpp"
#include "gradquant/optimize/slab_set.hpp"
#include "gradquant/optimize/slab_spill.hpp"
#include "gradquant/optimize/threshold_search.hpp"
#include "gradquant/quantizers/spec.hpp"
#include "optimize_tables.hpp"

namespace gradquant::cli {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> parts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, sep);) parts.push_back(item);
  return parts;
}

double ParseNumber(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  double x = kNan;
  try {
    x = std::stod(text, &used);
  } catch (const std::exception&) {
  }
  if (used != text.size() || !std::isfinite(x)) {
    throw SpecError(option + ": '" + text + "' is not a number");
  }
  return x;
}

std::uint32_t ParseBits(const std::string& text) {
  const double b = ParseNumber(text, "--bits");
  if (b != std::floor(b) || b < 1 || b > 16) throw SpecError("--bits " + text + ": expected 1..16");
  return static_cast<std::uint32_t>(b);
}

// --bits LIST, or --bits-range A:B with both ends included (a range of values, unlike the
// half-open index ranges of --records); giving both is a usage error.
std::vector<std::uint32_t> BitsList(const cxxopts::ParseResult& args) {
  std::vector<std::uint32_t> bits;
  if (args.count("bits-range")) {
    if (args.count("bits")) throw SpecError("--bits and --bits-range: give one of them, not both");
    const std::string range = args["bits-range"].as<std::string>();
    const auto ends = Split(range, ':');
    if (ends.size() != 2 || range.back() == ':') {
      throw SpecError("--bits-range " + range + ": expected A:B, both ends included (1:8)");
    }
    const std::uint32_t lo = ParseBits(ends[0]), hi = ParseBits(ends[1]);
    if (lo > hi) throw SpecError("--bits-range " + range + ": A must not exceed B");
    for (std::uint32_t b = lo; b <= hi; ++b) bits.push_back(b);
  } else {
    for (const auto& item : Split(args["bits"].as<std::string>(), ','))
      bits.push_back(ParseBits(item));
  }
  if (bits.empty()) throw SpecError("--bits: empty list");
  return bits;
}

void PrintBoth(const Report& thresholds, const Report& frontier, Format format) {
  if (format != Format::kJson) {
    thresholds.Print(std::cout, format);
    std::cout << '\n';
    frontier.Print(std::cout, format);
    return;
  }
  std::ostringstream a, b;
  thresholds.Print(a, format);
  frontier.Print(b, format);
  std::cout << "{\"thresholds\": " << a.str() << ", \"frontier\": " << b.str() << "}\n";
}

cxxopts::Options OptimizeOptions() {
  cxxopts::Options options(
      "gradquant optimize",
      "TNQ truncation thresholds (closed form, Gaussian and empirical-pdf optimality condition, "
      "measured optimum) per layer, record and bit budget, and the best spec of each quantizer "
      "family under a budget of uplink bits per coordinate (exact bits of the real encoders).");
  options.positional_help("DUMP...");
  options.add_options()("inputs", "dump files", cxxopts::value<std::vector<std::string>>())(
      "part", "thresholds, frontier or both (two tables; JSON: one object with both)",
      cxxopts::value<std::string>()->default_value("both"))(
      "bits", "TNQ bits per coordinate, a list: 3 or 2,3,4",
      cxxopts::value<std::string>()->default_value("3"))(
      "bits-range", "TNQ bits A:B, both ends included (inclusive: 2:4 = 2,3,4), instead of --bits",
      cxxopts::value<std::string>())("budget",
                                     "frontier budgets in bits per coordinate, a list: 2 or 1,2,4",
                                     cxxopts::value<std::string>()->default_value("2"))(
      "families", "frontier families, a list (default: all)", cxxopts::value<std::string>())(
      "overload-tol", "NDQSG: largest predicted overload rate accepted",
      cxxopts::value<double>()->default_value("0.001"))(
      "trials", "TNQ Monte Carlo seeds per measurement",
      cxxopts::value<std::uint32_t>()->default_value("4"))(
      "seed", "shared random seed; TNQ trial r uses seed + r",
      cxxopts::value<std::uint64_t>()->default_value("0"))(
      "curve",
      "print only the measured error against alpha for this layer (exact name), the "
      "first selected record and one --bits value",
      cxxopts::value<std::string>())("curve-points", "alpha values on the curve",
                                     cxxopts::value<std::size_t>()->default_value("49"));
  AddFeedbackOption(options, /*list=*/false);
  AddDumpOptions(options);
  AddNonfiniteOption(options);
  options.parse_positional({"inputs"});
  return options;
}

// Position of the layer named @p name in the dump.
std::size_t LayerNamed(const Dump& dump, const std::string& name) {
  for (std::size_t l = 0; l < dump.Layers().size(); ++l) {
    if (dump.Layers()[l].name == name) return l;
  }
  throw SpecError("--curve: no layer named '" + name + "'");
}

void AddMeta(Report& report, const std::string& part, const TnqTrials& base,
             const std::vector<std::string>& inputs) {
  AddStandardMeta(report, "optimize");
  report.Meta("part", part);
  report.Meta("seed", std::uint64_t{base.seed});
  if (part != "frontier") report.Meta("trials", std::uint64_t{base.trials});
  report.Meta("inputs", Join(inputs));
}

}  // namespace

int RunOptimize(int argc, char** argv) {
  cxxopts::Options options = OptimizeOptions();
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const auto inputs = Inputs(args, "dump file");
  const Format format = FormatOf(args);
  const std::string part = args["part"].as<std::string>();
  if (part != "thresholds" && part != "frontier" && part != "both") {
    throw SpecError("--part " + part + ": expected thresholds, frontier or both");
  }
  const std::vector<std::uint32_t> bits = BitsList(args);
  std::vector<double> budgets;
  for (const auto& item : Split(args["budget"].as<std::string>(), ',')) {
    budgets.push_back(ParseNumber(item, "--budget"));
  }
  std::vector<std::string> families = Split(TextOr(args, "families", ""), ',');
  if (families.empty()) families = FrontierFamilies();
  TnqTrials base;
  base.seed = args["seed"].as<std::uint64_t>();
  base.trials = args["trials"].as<std::uint32_t>();
  if (base.trials < 1) throw SpecError("--trials must be at least 1");
  const ThresholdOptions topts;
  const std::optional<Feedback> feedback = OneFeedbackOf(args);

  const Dump dump = Dump::Open(inputs, NonfiniteOf(args));
  Selection sel = SelectFrom(dump, args);
  if (args.count("curve")) {
    if (bits.size() != 1) throw SpecError("--curve needs exactly one --bits value");
    sel.layers = {LayerNamed(dump, args["curve"].as<std::string>())};
    sel.records.resize(1);
    const SlabSet set = SelectSlabs(dump, sel);
    base.layer = &set.layers[0];
    base.step = set.steps[0];
    Report curve = CurveReport(set, sel.records[0], bits[0], base, topts,
                               args["curve-points"].as<std::size_t>());
    AddMeta(curve, "curve", base, inputs);
    WarnNonfinite(dump);
    curve.Print(std::cout, format);
    return kExitOk;
  }

  const SlabSet set = SelectSlabs(dump, sel);
  Report thresholds =
      part == "frontier" ? Report({}) : ThresholdReport(set, sel.records, bits, base, topts);
  AddMeta(thresholds, "thresholds", base, inputs);
  std::vector<std::string> bitsText;
  for (auto b : bits) bitsText.push_back(std::to_string(b));
  thresholds.Meta("bits", Join(bitsText));
  thresholds.Meta("search_grid", std::uint64_t{topts.gridPoints});
  thresholds.Meta("search_span", FormatReal(topts.spanLo) + ":" + FormatReal(topts.spanHi));
  thresholds.Meta("search_log_resolution", double{topts.logResolution});

  FrontierOptions fopts;
  fopts.seed = base.seed;
  fopts.overloadTolerance = args["overload-tol"].as<double>();
  fopts.feedback = feedback;
  // The thresholds read each item once, from the dump; the frontier passes over the slabs once
  // per spec it evaluates, from a copy that is cheap to read again (slab_spill.hpp).
  Report frontier =
      part == "thresholds" ? Report({}) : FrontierReport(SpillSlabs(set), budgets, families, fopts);
  AddMeta(frontier, "frontier", base, inputs);
  frontier.Meta("budget_unit", "uplink_bits_per_coord");
  frontier.Meta("overload_tol", double{fopts.overloadTolerance});
  if (feedback) frontier.Meta("ef", FeedbackName(*feedback));

  WarnNonfinite(dump);
  if (part == "thresholds") thresholds.Print(std::cout, format);
  if (part == "frontier") frontier.Print(std::cout, format);
  if (part == "both") PrintBoth(thresholds, frontier, format);
  return kExitOk;
}

}  // namespace gradquant::cli
