#pragma once
/** @file layer_info.hpp What gradquant knows about one parameter (layer) of a dump. */
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gradquant {

/** The longest parameter name a dump may hold, in bytes (docs/security.md). */
constexpr std::size_t kMaxLayerName = 1024;

/** One parameter of the model: its name, its own shape, its size and its position. */
struct LayerInfo {
  std::string name;                  ///< e.g. "conv1.weight"
  std::vector<std::uint64_t> shape;  ///< the parameter's own shape; product == n
  std::uint64_t n = 0;               ///< flattened size N
  std::uint32_t index = 0;           ///< position in model order (part of the random key)
};

}  // namespace gradquant
