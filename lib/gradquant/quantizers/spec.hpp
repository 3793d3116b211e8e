#pragma once
/**
 * @file spec.hpp
 * Quantizer specs: `name[:key=value[,key=value]*]`, names and keys in [a-z0-9_], no spaces
 * (`qsgd:s=4,bucket=512`). A factory reads its parameters through Params, declaring each one's
 * default, range and meaning as it reads it; the same calls document the quantizer for
 * `gradquant list` and build the canonical spec (sorted keys, defaults filled in) that every
 * report and file shows and that parses back to the same quantizer.
 */
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gradquant {

/** A parsed but not yet interpreted spec. @throws SpecError on malformed text. */
struct ParsedSpec {
  std::string name;
  std::map<std::string, std::string> values;
};

/** Splits @p text into name and key=value pairs. @throws SpecError */
ParsedSpec ParseSpec(const std::string& text);

/** Documentation of one parameter, collected while a factory reads it. */
struct ParamDoc {
  std::string key;
  std::string defaultValue;
  std::string range;    ///< e.g. "[1, 65536]" or "l2|max"
  std::string meaning;  ///< one line
};

/** Typed access to a spec's values, recording docs and the canonical form. */
class Params {
 public:
  /** Params for @p spec; an empty ParsedSpec documents defaults only. */
  explicit Params(ParsedSpec spec) : spec_(std::move(spec)) {}

  /** An integer in [lo, hi]. @throws SpecError */
  std::int64_t Int(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                   const std::string& meaning);
  /** A real number in [lo, hi]. @throws SpecError */
  double Real(const std::string& key, double def, double lo, double hi, const std::string& meaning);
  /** One of @p choices (the first is not implied: @p def is the default). @throws SpecError */
  std::string Choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& choices, const std::string& meaning);
  /** `auto` (returned as NaN) or a real number in [lo, hi]. @throws SpecError */
  double AutoOrReal(const std::string& key, double lo, double hi, const std::string& meaning);

  /** @throws SpecError naming every key no reader asked for. */
  void RequireAllUsed() const;

  /** Canonical spec: name, then every parameter sorted by key with its value. */
  std::string Canonical() const;

  /** The docs of every parameter read so far, in reading order. */
  const std::vector<ParamDoc>& Docs() const { return docs_; }

  /** The quantizer name. */
  const std::string& Name() const { return spec_.name; }

 private:
  const std::string* Take(const std::string& key);
  [[noreturn]] void Fail(const std::string& key, const std::string& value,
                         const std::string& expected) const;

  ParsedSpec spec_;
  std::vector<ParamDoc> docs_;
  std::map<std::string, std::string> canonical_;
  std::map<std::string, bool> used_;
};

/** Shortest text that parses back to exactly @p x. */
std::string FormatReal(double x);

}  // namespace gradquant
