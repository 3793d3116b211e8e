#include "gradquant/pipeline/selection.hpp"

#include <algorithm>
#include <charconv>
#include <regex>

#include "gradquant/core/error.hpp"

namespace gradquant {
namespace {

std::size_t ParseIndex(const std::string& text, const std::string& list) {
  std::size_t v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || res.ec != std::errc() || res.ptr != text.data() + text.size()) {
    throw SpecError("--records '" + list + "': '" + text + "' is not a record index");
  }
  return v;
}

std::vector<std::size_t> ParseRecords(const std::string& list, std::size_t records) {
  std::vector<std::size_t> out;
  if (list.empty()) {
    for (std::size_t r = 0; r < records; ++r) out.push_back(r);
    return out;
  }
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = list.find(',', start);
    const std::string item = list.substr(start, comma - start);
    const auto colon = item.find(':');
    std::size_t lo, hi;
    if (colon == std::string::npos) {
      lo = ParseIndex(item, list);
      hi = lo + 1;
    } else {
      const std::string a = item.substr(0, colon), b = item.substr(colon + 1);
      lo = a.empty() ? 0 : ParseIndex(a, list);
      hi = b.empty() ? records : ParseIndex(b, list);
      if (hi <= lo) throw SpecError("--records '" + list + "': range '" + item + "' is empty");
    }
    if (hi > records) {
      throw SpecError("--records '" + list + "': record " + std::to_string(hi - 1) +
                      " out of range (the dump has " + std::to_string(records) + " records)");
    }
    for (std::size_t r = lo; r < hi; ++r) out.push_back(r);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

Selection Select(const std::vector<LayerInfo>& layers, std::size_t records,
                 const std::string& layerRegex, const std::string& recordList) {
  Selection sel;
  std::regex re;
  try {
    re = std::regex(layerRegex.empty() ? ".*" : layerRegex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw SpecError("--layers '" + layerRegex + "': not a valid regular expression (" + e.what() +
                    ")");
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (std::regex_search(layers[i].name, re)) sel.layers.push_back(i);
  }
  if (sel.layers.empty()) throw SpecError("--layers '" + layerRegex + "' matches no layer");
  sel.records = ParseRecords(recordList, records);
  return sel;
}

}  // namespace gradquant
