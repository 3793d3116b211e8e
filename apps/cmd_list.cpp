// `gradquant list`: every quantizer with its parameters.
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::cli {

int RunList(int argc, char** argv) {
  cxxopts::Options options("gradquant list",
                           "List every quantizer with its parameters, defaults and ranges.");
  AddFormatOption(options);
  cxxopts::ParseResult args;
  if (!Parse(options, argc, argv, &args)) return kExitOk;
  const Registry& registry = BuiltinRegistry();
  const Format format = FormatOf(args);
  if (format == Format::kTable) {
    for (const auto& name : registry.Names()) {
      std::cout << name << ": " << registry.Get(name).description << '\n';
      std::cout << "    default spec: " << registry.Make(name)->Spec() << '\n';
      for (const auto& d : registry.Docs(name)) {
        std::cout << "    " << d.key << " = " << d.defaultValue << "  in " << d.range << "  "
                  << d.meaning << '\n';
      }
    }
    std::cout << std::flush;
    return kExitOk;
  }
  Report report({"quantizer", "description", "key", "default", "range", "meaning"});
  AddStandardMeta(report, "list");
  for (const auto& name : registry.Names()) {
    const auto& desc = registry.Get(name).description;
    const auto docs = registry.Docs(name);
    if (docs.empty())
      report.Row({name, desc, std::string(), std::string(), std::string(), std::string()});
    for (const auto& d : docs) report.Row({name, desc, d.key, d.defaultValue, d.range, d.meaning});
  }
  report.Print(std::cout, format);
  return kExitOk;
}

}  // namespace gradquant::cli
