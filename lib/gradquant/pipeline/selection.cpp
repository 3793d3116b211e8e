#include "gradquant/pipeline/selection.hpp"

#include <algorithm>
#include <charconv>
#include <regex>

#include "gradquant/core/error.hpp"

namespace gradquant {
namespace {

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

// "the dump has 6 records (0 to 5)"
std::string Available(std::size_t records) {
  std::string text =
      "the dump has " + std::to_string(records) + " record" + (records == 1 ? "" : "s");
  if (records > 0) text += " (0 to " + std::to_string(records - 1) + ")";
  return text;
}

// One index of @p list; an index that does not fit in size_t is past the end of any dump.
std::size_t ParseIndex(const std::string& text, const std::string& list, std::size_t records) {
  std::size_t v = 0;
  const char* end = text.data() + text.size();
  const auto res = std::from_chars(text.data(), end, v);
  if (text.empty() || res.ptr != end ||
      (res.ec != std::errc() && res.ec != std::errc::result_out_of_range)) {
    throw SpecError(Quoted(list) + ": " + Quoted(text) +
                    " is not a record index (a 0-based integer)");
  }
  if (res.ec == std::errc::result_out_of_range) {
    throw SpecError(Quoted(list) + ": record " + text + " is out of range (" + Available(records) +
                    ")");
  }
  return v;
}

}  // namespace

std::vector<std::size_t> SelectLayers(const std::vector<LayerInfo>& layers,
                                      const std::string& layerRegex) {
  std::vector<std::size_t> out;
  if (layerRegex.empty()) {
    for (std::size_t i = 0; i < layers.size(); ++i) out.push_back(i);
    if (out.empty()) throw SpecError("the dump has no layers");
    return out;
  }
  if (layerRegex.size() > kMaxLayerRegex) {
    throw SpecError(Quoted(layerRegex.substr(0, 20) + "...") + ": a regular expression of " +
                    std::to_string(layerRegex.size()) + " characters (at most " +
                    std::to_string(kMaxLayerRegex) + ")");
  }
  // libstdc++'s default matcher backtracks, recursing once per character of the name, and can
  // take exponential time on patterns like (a*)*b; its breadth-first matcher (__polynomial, no
  // back-references) takes time and stack bounded by pattern size times name size.
  auto flags = std::regex::ECMAScript;
#ifdef __GLIBCXX__
  flags |= std::regex_constants::__polynomial;
#endif
  std::regex re;
  try {
    re = std::regex(layerRegex, flags);
  } catch (const std::regex_error& e) {
    throw SpecError(Quoted(layerRegex) + ": not a valid regular expression (" + e.what() + ")");
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (std::regex_search(layers[i].name, re)) out.push_back(i);
  }
  if (out.empty()) throw SpecError(Quoted(layerRegex) + " matches no layer");
  return out;
}

std::vector<std::size_t> SelectRecords(std::size_t records, const std::string& list) {
  std::vector<std::size_t> out;
  if (list.empty()) {
    for (std::size_t r = 0; r < records; ++r) out.push_back(r);
    if (out.empty()) throw SpecError("the dump has no records");
    return out;
  }
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    const std::string item = list.substr(start, comma == std::string::npos ? comma : comma - start);
    if (item.empty())
      throw SpecError(Quoted(list) + ": empty item (indices and A:B ranges, comma-separated)");
    const auto colon = item.find(':');
    std::size_t lo = 0, hi = 0;  // [lo, hi)
    if (colon == std::string::npos) {
      lo = ParseIndex(item, list, records);
      if (lo >= records) {
        throw SpecError(Quoted(list) + ": record " + item + " is out of range (" +
                        Available(records) + ")");
      }
      hi = lo + 1;
    } else {
      const std::string a = item.substr(0, colon), b = item.substr(colon + 1);
      if (b.find(':') != std::string::npos) {
        throw SpecError(Quoted(list) + ": " + Quoted(item) + " is not a range A:B");
      }
      lo = a.empty() ? 0 : ParseIndex(a, list, records);
      hi = b.empty() ? records : ParseIndex(b, list, records);
      if (hi > records || (lo >= records && !a.empty())) {
        const std::string which = lo < hi ? " (records " + std::to_string(lo) + " to " +
                                                std::to_string(hi - 1) + ", half-open)"
                                          : "";
        throw SpecError(Quoted(list) + ": range " + item + which + " is out of range (" +
                        Available(records) + ")");
      }
      if (hi <= lo) {
        throw SpecError(Quoted(list) + ": range " + item +
                        " is empty (A:B is half-open, records A to B-1)");
      }
    }
    for (std::size_t r = lo; r < hi; ++r) out.push_back(r);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Selection Select(const std::vector<LayerInfo>& layers, std::size_t records,
                 const std::string& layerRegex, const std::string& recordList) {
  return {SelectLayers(layers, layerRegex), SelectRecords(records, recordList)};
}

}  // namespace gradquant
