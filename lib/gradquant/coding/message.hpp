#pragma once
/** @file message.hpp One encoded message: the bytes on the wire and their exact bit count. */
#include <cstdint>
#include <vector>

namespace gradquant {

/**
 * A message as it travels on the wire. `bits` is the exact number of meaningful bits, the rate
 * that every report counts; `bytes` holds them MSB-first (see bit_writer.hpp), so
 * `bytes.size() == ceil(bits / 8)` and the unused low bits of the last byte are zero.
 */
struct Message {
  std::vector<std::uint8_t> bytes;
  std::uint64_t bits = 0;
};

/** FNV-1a 64-bit hash of the bytes followed by the bit count: a checksum and a golden hash. */
std::uint64_t MessageHash(const Message& message);

}  // namespace gradquant
