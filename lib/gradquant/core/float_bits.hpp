#pragma once
/** @file float_bits.hpp The IEEE binary32 pattern of a float and back (a bit cast). */
#include <cstdint>
#include <cstring>

namespace gradquant {

/** The 32 bits of @p x: sign, 8 exponent bits, 23 mantissa bits. */
inline std::uint32_t FloatBits(float x) {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

/** The float whose pattern is @p bits. */
inline float BitsFloat(std::uint32_t bits) {
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

}  // namespace gradquant
