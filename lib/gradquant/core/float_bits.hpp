#pragma once
/**
 * @file float_bits.hpp The IEEE binary32 pattern of a float and back; BitCast, the bit cast both
 * are made of, for other types of one size (a double and its 64 bits).
 */
#include <cstdint>
#include <cstring>

namespace gradquant {

/** The object representation of @p x as a @p To of the same size (std::bit_cast before C++20). */
template <class To, class From>
To BitCast(const From& x) {
  static_assert(sizeof(To) == sizeof(From), "a bit cast keeps the size");
  To out;
  std::memcpy(&out, &x, sizeof out);
  return out;
}

/** The 32 bits of @p x: sign, 8 exponent bits, 23 mantissa bits. */
inline std::uint32_t FloatBits(float x) { return BitCast<std::uint32_t>(x); }

/** The float whose pattern is @p bits. */
inline float BitsFloat(std::uint32_t bits) { return BitCast<float>(bits); }

}  // namespace gradquant
