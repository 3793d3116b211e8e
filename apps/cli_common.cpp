#include "cli_common.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"

namespace gradquant::cli {

void AddFormatOption(cxxopts::Options& options) {
  options.add_options()("format", "output: table, csv, json, or auto (table on a terminal, csv "
                                  "otherwise) [default: auto]",
                        cxxopts::value<std::string>()->default_value("auto"))(
      "h,help", "show this help");
}

void AddDumpOptions(cxxopts::Options& options) {
  options.add_options()("layers", "only layers whose name matches this regular expression "
                                  "[default: all]",
                        cxxopts::value<std::string>()->default_value(""))(
      "records", "only these 0-based records: list of indices and half-open ranges, e.g. 0,4 or "
                 "2:6 [default: all]",
      cxxopts::value<std::string>()->default_value(""));
  AddFormatOption(options);
}

void AddNonfiniteOption(cxxopts::Options& options) {
  options.add_options()("nonfinite",
                        "NaN/Inf in a gradient: reject (error naming file, layer, record, worker, "
                        "index) or zero (replace by 0, count in the report and the output) "
                        "[default: reject]",
                        cxxopts::value<std::string>()->default_value("reject"));
}

NonfinitePolicy NonfiniteOf(const cxxopts::ParseResult& args) {
  const std::string text = args["nonfinite"].as<std::string>();
  if (text == "reject") return NonfinitePolicy::kReject;
  if (text == "zero") return NonfinitePolicy::kZero;
  throw SpecError("--nonfinite " + text + ": expected reject or zero");
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

bool Parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult* result) {
  *result = options.parse(argc, argv);
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

std::vector<std::string> Inputs(const cxxopts::ParseResult& args, const std::string& what) {
  if (!args.count("inputs")) throw SpecError("no " + what + " given");
  return Repeated(args, "inputs");
}

Selection SelectFrom(const Dump& dump, const cxxopts::ParseResult& args) {
  return Select(dump.Layers(), dump.Records(), args["layers"].as<std::string>(),
                args["records"].as<std::string>());
}

Format FormatOf(const cxxopts::ParseResult& args) {
  return ParseFormat(args["format"].as<std::string>());
}

Progress ProgressLine(const std::string& label) {
  if (!isatty(STDERR_FILENO)) return {};
  return [label](std::size_t done, std::size_t total) {
    std::fprintf(stderr, "\r%s %zu/%zu%s", label.c_str(), done, total, done == total ? "\n" : "");
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
