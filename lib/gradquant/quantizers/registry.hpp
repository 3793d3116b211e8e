#pragma once
/**
 * @file registry.hpp
 * Name -> factory table of quantizers. Registration is explicit (RegisterBuiltinQuantizers in
 * builtin.cpp lists every method): self-registering statics in a static library are dropped by
 * the linker when nothing references their translation unit.
 */
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Builds a quantizer from its parameters; must read every parameter through Params. */
using QuantizerFactory = std::function<std::unique_ptr<Quantizer>(Params&)>;

/** One registered method. */
struct RegistryEntry {
  std::string name;
  std::string description;  ///< one line, with the citation's short form
  QuantizerFactory factory;
};

/** The table of quantizers. */
class Registry {
 public:
  /** Adds a method. @throws std::invalid_argument on a duplicate name. */
  void Add(RegistryEntry entry);

  /** Builds the quantizer for @p spec. @throws SpecError for unknown names, keys or values. */
  std::unique_ptr<Quantizer> Make(const std::string& spec) const;

  /** Registered names, sorted. */
  std::vector<std::string> Names() const;

  /** The entry for @p name. @throws SpecError if unknown. */
  const RegistryEntry& Get(const std::string& name) const;

  /** The parameter docs of @p name, from a factory run with every default. */
  std::vector<ParamDoc> Docs(const std::string& name) const;

 private:
  std::vector<RegistryEntry> entries_;
};

/** Registers every built-in quantizer. */
void RegisterBuiltinQuantizers(Registry& registry);

/** The registry of built-in quantizers, built once on first use. */
const Registry& BuiltinRegistry();

}  // namespace gradquant
