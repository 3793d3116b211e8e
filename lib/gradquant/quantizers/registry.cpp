#include "gradquant/quantizers/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "gradquant/core/error.hpp"

namespace gradquant {

void Registry::Add(RegistryEntry entry) {
  for (const auto& e : entries_) {
    if (e.name == entry.name) throw std::invalid_argument("duplicate quantizer " + entry.name);
  }
  entries_.push_back(std::move(entry));
}

const RegistryEntry& Registry::Get(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return e;
  }
  std::string known;
  for (const auto& n : Names()) known += (known.empty() ? "" : ", ") + n;
  throw SpecError("unknown quantizer '" + name + "' (known: " + known + ")");
}

std::unique_ptr<Quantizer> Registry::Make(const std::string& spec) const {
  ParsedSpec parsed = ParseSpec(spec);
  const RegistryEntry& entry = Get(parsed.name);
  Params params(std::move(parsed));
  auto q = entry.factory(params);
  params.RequireAllUsed();
  return q;
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> names;
  for (const auto& e : entries_) names.push_back(e.name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<ParamDoc> Registry::Docs(const std::string& name) const {
  const RegistryEntry& entry = Get(name);
  Params params(ParsedSpec{name, {}});
  entry.factory(params);
  return params.Docs();
}

const Registry& BuiltinRegistry() {
  static const Registry registry = [] {
    Registry r;
    RegisterBuiltinQuantizers(r);
    return r;
  }();
  return registry;
}

}  // namespace gradquant
