#pragma once
/** @file finite.hpp Whether float32 values are all finite, in one vectorisable pass. */
#include <cstddef>
#include <cstdint>

#include "gradquant/core/float_bits.hpp"

namespace gradquant {

/** True when no value is NaN or Inf (an exponent field of all ones); branch-free. */
inline bool AllFinite(const float* x, std::size_t n) {
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < n; ++i) {
    seen |= static_cast<std::uint32_t>((FloatBits(x[i]) & 0x7f800000u) == 0x7f800000u);
  }
  return seen == 0;
}

}  // namespace gradquant
