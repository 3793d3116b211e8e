#pragma once
/**
 * @file selection.hpp
 * Which parameters and records a subcommand processes (`--layers REGEX`, `--records LIST`).
 *
 * A record LIST is the one index-list syntax of gradquant: comma-separated 0-based indices and
 * half-open ranges `A:B`, like Python slices: `A:B` is A, A+1, ..., B-1 (`2:6` = 2, 3, 4, 5),
 * `A:` runs to the last record and `:B` starts at 0. Duplicates are merged and the result is
 * sorted. Every index must exist; an empty range (`3:3`), an empty item (`1,,2`), a negative
 * or non-numeric index and an index past the end are errors, as is an empty result.
 */
#include <cstddef>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"

namespace gradquant {

/** The longest `--layers` pattern accepted, in characters. */
constexpr std::size_t kMaxLayerRegex = 1024;

/** Positions into a dump's layers and records, each sorted and unique. */
struct Selection {
  std::vector<std::size_t> layers;
  std::vector<std::size_t> records;
};

/**
 * The positions of the layers whose name matches @p layerRegex (ECMAScript, search; empty =
 * all; matched breadth-first, so time is bounded by pattern size times name size and
 * back-references are refused).
 * @throws SpecError on a bad regex, one longer than kMaxLayerRegex, or when no layer matches; the
 * message starts with the quoted regex, so a caller can prefix its option name.
 */
std::vector<std::size_t> SelectLayers(const std::vector<LayerInfo>& layers,
                                      const std::string& layerRegex);

/**
 * The records of @p recordList (the LIST syntax above; empty = all @p records).
 * @throws SpecError on a malformed list, an index or range past the end (the message names the
 *   range and @p records), or an empty result; the message starts with the quoted list.
 */
std::vector<std::size_t> SelectRecords(std::size_t records, const std::string& recordList);

/** SelectLayers and SelectRecords together. @throws SpecError as they do. */
Selection Select(const std::vector<LayerInfo>& layers, std::size_t records,
                 const std::string& layerRegex, const std::string& recordList);

}  // namespace gradquant
