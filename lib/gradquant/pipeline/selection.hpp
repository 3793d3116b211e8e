#pragma once
/**
 * @file selection.hpp
 * `--layers REGEX` and `--records LIST`: which parameters and records a subcommand processes.
 * LIST is a comma-separated list of 0-based record indices and half-open ranges a:b (either end
 * may be omitted: `2:` is record 2 to the last), e.g. `0,4` or `2:6` (records 2, 3, 4, 5).
 */
#include <cstddef>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"

namespace gradquant {

/** Positions into a dump's layers and records, each sorted and unique. */
struct Selection {
  std::vector<std::size_t> layers;
  std::vector<std::size_t> records;
};

/**
 * Selects the layers whose name matches @p layerRegex (ECMAScript, search; empty = all) and the
 * records listed in @p recordList (empty = all).
 * @throws SpecError on a bad regex, a malformed list, an index out of range, or an empty result.
 */
Selection Select(const std::vector<LayerInfo>& layers, std::size_t records,
                 const std::string& layerRegex, const std::string& recordList);

}  // namespace gradquant
