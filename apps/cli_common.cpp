#include "cli_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::cli {

void AddFormatOption(cxxopts::Options& options) {
  options.add_options()("format",
                        "output: table, csv, json, or auto (table on a terminal, csv "
                        "otherwise)",
                        cxxopts::value<std::string>()->default_value("auto"))("h,help",
                                                                              "show this help");
}

void AddDumpOptions(cxxopts::Options& options) {
  options.add_options()("layers",
                        "only layers whose name matches this regular expression "
                        "(default: all)",
                        cxxopts::value<std::string>())(
      "records",
      "only these 0-based records: indices and half-open ranges A:B (A to B-1, like "
      "Python slices), e.g. 0,4 or 2:6 (= 2,3,4,5) or 3: (default: all)",
      cxxopts::value<std::string>());
  AddFormatOption(options);
}

void AddNonfiniteOption(cxxopts::Options& options) {
  options.add_options()("nonfinite",
                        "NaN/Inf in a gradient: reject (error naming file, layer, record, worker, "
                        "index) or zero (replace by 0, count in the report and the output)",
                        cxxopts::value<std::string>()->default_value("reject"));
}

NonfinitePolicy NonfiniteOf(const cxxopts::ParseResult& args) {
  const std::string text = args["nonfinite"].as<std::string>();
  if (text == "reject") return NonfinitePolicy::kReject;
  if (text == "zero") return NonfinitePolicy::kZero;
  throw SpecError("--nonfinite " + text + ": expected reject or zero");
}

void AddFeedbackOption(cxxopts::Options& options, bool list) {
  options.add_options()(
      "ef",
      list ? "error feedback modes, a list of none, classic, ef21 (one row set each); any mode "
             "also measures the accumulated error"
           : "error feedback: none, classic or ef21; any mode also measures the accumulated "
             "error",
      cxxopts::value<std::string>());
}

std::vector<Feedback> FeedbackOf(const cxxopts::ParseResult& args) {
  std::vector<Feedback> modes;
  if (!args.count("ef")) return modes;
  const std::string text = args["ef"].as<std::string>();
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string name = text.substr(start, comma == std::string::npos ? comma : comma - start);
    try {
      const Feedback mode = ParseFeedback(name);
      if (std::find(modes.begin(), modes.end(), mode) != modes.end()) {
        throw SpecError("'" + name + "' is given twice");
      }
      modes.push_back(mode);
    } catch (const SpecError& e) {
      throw SpecError("--ef " + text + ": " + e.what());
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return modes;
}

std::optional<Feedback> OneFeedbackOf(const cxxopts::ParseResult& args) {
  const std::vector<Feedback> modes = FeedbackOf(args);
  if (modes.size() > 1) {
    throw SpecError("--ef " + args["ef"].as<std::string>() + ": expected one mode");
  }
  if (modes.empty()) return std::nullopt;
  return modes.front();
}

void WarnNonfinite(const Dump& dump) {
  const NonfiniteCount zeroed = dump.Zeroed();
  if (zeroed.count == 0) return;
  std::cerr << "gradquant: warning: zeroed " << zeroed.count << " NaN/Inf gradient value"
            << (zeroed.count == 1 ? "" : "s") << " (--nonfinite zero), the first at "
            << zeroed.first << '\n';
}

void CheckOutputIsNotInput(const std::string& output, const std::vector<std::string>& inputs) {
  struct stat out {};
  if (stat(output.c_str(), &out) != 0) return;  // a new file cannot be an input
  for (const auto& input : inputs) {
    struct stat in {};
    if (stat(input.c_str(), &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
      throw SpecError("-o " + output + ": is also an input; refusing to replace it");
    }
  }
}

namespace {

// The text between cxxopts' quotes in one of its messages ("Argument 'abc' failed to parse").
std::string Quoted(const std::string& message) {
  const auto a = message.find(cxxopts::LQUOTE);
  if (a == std::string::npos) return "";
  const auto from = a + cxxopts::LQUOTE.size();
  const auto b = message.find(cxxopts::RQUOTE, from);
  return b == std::string::npos ? "" : message.substr(from, b - from);
}

std::string OptionName(const std::string& name) { return (name.size() == 1 ? "-" : "--") + name; }

// Where the value @p text that failed to parse sits in @p argv: the option it was given to and
// the argv slot and offset of the value (so a probe can replace it); false if not found.
bool FindValue(int argc, char** argv, const std::string& text, std::string* option, int* slot,
               std::size_t* offset) {
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    const auto eq = token.find('=');
    if (token.rfind("--", 0) == 0 && eq != std::string::npos && token.substr(eq + 1) == text) {
      *option = token.substr(0, eq), *slot = i, *offset = eq + 1;
      return true;
    }
    const std::string previous = i > 1 ? argv[i - 1] : "";
    if (token == text && previous.size() > 1 && previous[0] == '-' && previous != "--" &&
        previous.find('=') == std::string::npos) {
      *option = previous, *slot = i, *offset = 0;
      return true;
    }
    if (token.size() > 2 && token[0] == '-' && token[1] != '-' && token.substr(2) == text) {
      *option = token.substr(0, 2), *slot = i, *offset = 2;
      return true;
    }
  }
  return false;
}

// Whether the command line parses with the value in @p slot replaced by @p probe.
bool Accepts(cxxopts::Options& options, int argc, char** argv, int slot, std::size_t offset,
             const std::string& probe) {
  std::vector<std::string> copy(argv, argv + argc);
  copy[slot] = copy[slot].substr(0, offset) + probe;
  std::vector<const char*> ptrs;
  for (const auto& a : copy) ptrs.push_back(a.c_str());
  try {
    options.parse(argc, ptrs.data());
    return true;
  } catch (const cxxopts::exceptions::exception&) {
    return false;
  }
}

bool IsInteger(const std::string& text) {
  std::size_t i = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (i == text.size()) return false;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  return true;
}

// "--trials: 'abc' is not an integer": what the value's type is, found by probing the parser
// with a value of each kind in its place (cxxopts' message names neither option nor type).
std::string BadValue(cxxopts::Options& options, int argc, char** argv, const std::string& text) {
  std::string option;
  int slot = 0;
  std::size_t offset = 0;
  if (!FindValue(argc, argv, text, &option, &slot, &offset)) {
    return "'" + text + "' is not a valid option value";
  }
  const std::string head = option + ": '" + text + "' ";
  if (!Accepts(options, argc, argv, slot, offset, "0")) {
    if (Accepts(options, argc, argv, slot, offset, "true")) return head + "is not true or false";
    return head + "is not a valid value";
  }
  if (Accepts(options, argc, argv, slot, offset, "0.5")) return head + "is not a number";
  if (!IsInteger(text)) return head + "is not an integer";
  if (text[0] == '-' && !Accepts(options, argc, argv, slot, offset, "-1")) {
    return head + "is negative (expected an integer >= 0)";
  }
  return head + "is out of range";
}

}  // namespace

bool Parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult* result) {
  // cxxopts' own messages ("Argument 'abc' failed to parse") name neither the option nor what
  // it expects: rephrase them in gradquant's shape, naming the option.
  try {
    *result = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::incorrect_argument_type& e) {
    throw SpecError(BadValue(options, argc, argv, Quoted(e.what())));
  } catch (const cxxopts::exceptions::no_such_option& e) {
    throw SpecError("unknown option " + OptionName(Quoted(e.what())));
  } catch (const cxxopts::exceptions::missing_argument& e) {
    throw SpecError(OptionName(Quoted(e.what())) + ": missing its value");
  } catch (const cxxopts::exceptions::option_requires_argument& e) {
    throw SpecError(OptionName(Quoted(e.what())) + ": missing its value");
  } catch (const cxxopts::exceptions::gratuitous_argument_for_option& e) {
    throw SpecError(OptionName(Quoted(e.what())) + ": takes no value");
  }
  if (result->count("help")) {
    std::cout << options.help() << std::flush;
    return false;
  }
  return true;
}

std::vector<std::string> Repeated(const cxxopts::ParseResult& args, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& kv : args.arguments()) {
    if (kv.key() == key) values.push_back(kv.value());
  }
  return values;
}

std::string TextOr(const cxxopts::ParseResult& args, const std::string& key,
                   const std::string& fallback) {
  return args.count(key) ? args[key].as<std::string>() : fallback;
}

std::vector<std::string> Inputs(const cxxopts::ParseResult& args, const std::string& what) {
  if (!args.count("inputs")) throw SpecError("no " + what + " given");
  return Repeated(args, "inputs");
}

std::unique_ptr<Quantizer> MakeQuantizer(const std::string& spec) {
  const std::string name = spec.substr(0, spec.find(':'));
  if (name.find(',') != std::string::npos) {
    std::string repeated;
    for (std::size_t start = 0; start <= name.size();) {
      const auto comma = std::min(name.find(',', start), name.size());
      repeated += " -q " + name.substr(start, comma - start);
      start = comma + 1;
    }
    throw SpecError("-q " + spec +
                    ": one quantizer per -q (commas separate a spec's parameters, "
                    "as in qsgd:s=7,bucket=512); for several, repeat the option:" +
                    repeated);
  }
  return BuiltinRegistry().Make(spec);
}

Selection SelectFrom(const Dump& dump, const cxxopts::ParseResult& args) {
  Selection sel;
  try {
    sel.layers = SelectLayers(dump.Layers(), TextOr(args, "layers", ""));
  } catch (const SpecError& e) {
    throw SpecError(std::string("--layers ") + e.what());
  }
  try {
    sel.records = SelectRecords(dump.Records(), TextOr(args, "records", ""));
  } catch (const SpecError& e) {
    throw SpecError(std::string("--records ") + e.what());
  }
  return sel;
}

Format FormatOf(const cxxopts::ParseResult& args) {
  return ParseFormat(args["format"].as<std::string>());
}

Progress ProgressLine(const std::string& label) {
  if (!isatty(STDERR_FILENO)) return {};
  // The line is rewritten in place and blanked out when the run is done, so the terminal keeps
  // only the report (and any warnings) once the work ends.
  return [label](std::size_t done, std::size_t total) {
    const int width = std::fprintf(stderr, "\r%s %zu/%zu", label.c_str(), done, total);
    if (done == total) std::fprintf(stderr, "\r%*s\r", width > 1 ? width - 1 : 0, "");
    std::fflush(stderr);
  };
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

void AddStandardMeta(Report& report, const std::string& command) {
  report.Meta("gradquant", kVersion);
  report.Meta("command", command);
}

}  // namespace gradquant::cli
