#include "gradquant/quantizers/spec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "gradquant/core/error.hpp"

namespace gradquant {
namespace {

bool IsIdentifier(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string JoinKeys(const std::vector<ParamDoc>& docs) {
  std::vector<std::string> keys;
  for (const auto& d : docs) keys.push_back(d.key);
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

}  // namespace

ParsedSpec ParseSpec(const std::string& text) {
  ParsedSpec out;
  const auto colon = text.find(':');
  out.name = text.substr(0, colon);
  if (!IsIdentifier(out.name)) {
    throw SpecError("spec '" + text + "': quantizer name must be non-empty [a-z0-9_]");
  }
  if (colon == std::string::npos) return out;
  std::string rest = text.substr(colon + 1);
  if (rest.empty()) throw SpecError("spec '" + text + "': nothing after ':'");
  std::size_t start = 0;
  while (start <= rest.size()) {
    const auto comma = rest.find(',', start);
    const std::string item = rest.substr(start, comma - start);
    const auto eq = item.find('=');
    if (eq == std::string::npos) {
      throw SpecError("spec '" + text + "': '" + item + "' is not key=value");
    }
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (!IsIdentifier(key)) throw SpecError("spec '" + text + "': bad key '" + key + "'");
    if (value.empty()) throw SpecError("spec '" + text + "': key '" + key + "' has no value");
    if (!out.values.emplace(key, value).second) {
      throw SpecError("spec '" + text + "': key '" + key + "' given twice");
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string FormatReal(double x) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, res.ptr);
}

const std::string* Params::Take(const std::string& key) {
  used_[key] = true;
  const auto it = spec_.values.find(key);
  return it == spec_.values.end() ? nullptr : &it->second;
}

void Params::Fail(const std::string& key, const std::string& value,
                  const std::string& expected) const {
  throw SpecError(spec_.name + ": " + key + "=" + value + " " + expected);
}

std::int64_t Params::Int(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi,
                         const std::string& meaning) {
  const std::string range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  docs_.push_back({key, std::to_string(def), range, meaning});
  std::int64_t v = def;
  if (const std::string* text = Take(key)) {
    const auto res = std::from_chars(text->data(), text->data() + text->size(), v);
    if (res.ec != std::errc() || res.ptr != text->data() + text->size()) {
      Fail(key, *text, "is not an integer");
    }
    if (v < lo || v > hi) Fail(key, *text, "out of range " + range);
  }
  canonical_[key] = std::to_string(v);
  return v;
}

double Params::Real(const std::string& key, double def, double lo, double hi,
                    const std::string& meaning) {
  const std::string range = "[" + FormatReal(lo) + ", " + FormatReal(hi) + "]";
  docs_.push_back({key, FormatReal(def), range, meaning});
  double v = def;
  if (const std::string* text = Take(key)) {
    const auto res = std::from_chars(text->data(), text->data() + text->size(), v);
    if (res.ec != std::errc() || res.ptr != text->data() + text->size() || !std::isfinite(v)) {
      Fail(key, *text, "is not a finite number");
    }
    if (v < lo || v > hi) Fail(key, *text, "out of range " + range);
  }
  canonical_[key] = FormatReal(v);
  return v;
}

std::string Params::Choice(const std::string& key, const std::string& def,
                           const std::vector<std::string>& choices, const std::string& meaning) {
  std::string range;
  for (const auto& c : choices) range += (range.empty() ? "" : "|") + c;
  docs_.push_back({key, def, range, meaning});
  std::string v = def;
  if (const std::string* text = Take(key)) {
    if (std::find(choices.begin(), choices.end(), *text) == choices.end()) {
      Fail(key, *text, "is not one of " + range);
    }
    v = *text;
  }
  canonical_[key] = v;
  return v;
}

double Params::AutoOrReal(const std::string& key, double lo, double hi,
                          const std::string& meaning) {
  const std::string range = "auto|[" + FormatReal(lo) + ", " + FormatReal(hi) + "]";
  docs_.push_back({key, "auto", range, meaning});
  double v = std::numeric_limits<double>::quiet_NaN();
  const std::string* text = Take(key);
  if (text && *text != "auto") {
    const auto res = std::from_chars(text->data(), text->data() + text->size(), v);
    if (res.ec != std::errc() || res.ptr != text->data() + text->size() || !std::isfinite(v)) {
      Fail(key, *text, "is neither 'auto' nor a finite number");
    }
    if (v < lo || v > hi) Fail(key, *text, "out of range " + range);
  }
  canonical_[key] = std::isnan(v) ? "auto" : FormatReal(v);
  return v;
}

void Params::RequireAllUsed() const {
  for (const auto& [key, value] : spec_.values) {
    if (!used_.count(key)) {
      throw SpecError(spec_.name + ": unknown parameter '" + key + "' (known: " + JoinKeys(docs_) +
                      ")");
    }
  }
}

std::string Params::Canonical() const {
  std::string out = spec_.name;
  char sep = ':';
  for (const auto& [key, value] : canonical_) {
    out += sep + key + "=" + value;
    sep = ',';
  }
  return out;
}

}  // namespace gradquant
