#pragma once
/** @file finite.hpp Whether float32 values are all finite, in one vectorisable pass. */
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace gradquant {

/** True when no value is NaN or Inf (an exponent field of all ones); branch-free. */
inline bool AllFinite(const float* x, std::size_t n) {
  std::uint32_t seen = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, x + i, sizeof bits);
    seen |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return seen == 0;
}

}  // namespace gradquant
