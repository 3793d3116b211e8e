#include "cli_common.hpp"

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

bool Parse(cxxopts::Options& options, int argc, char** argv, cxxopts::ParseResult* result) {
  *result = options.parse(argc, argv);
  if (result->count("help")) {
    std::cout << options.help() << std::flush;
    return false;
  }
  return true;
}

std::vector<std::string> Inputs(const cxxopts::ParseResult& args, const std::string& what) {
  if (!args.count("inputs")) throw SpecError("no " + what + " given");
  return args["inputs"].as<std::vector<std::string>>();
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
