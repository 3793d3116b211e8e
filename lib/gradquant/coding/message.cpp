#include "gradquant/coding/message.hpp"

namespace gradquant {

std::uint64_t MessageHash(const Message& message) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  auto mix = [&h](std::uint8_t byte) {
    h ^= byte;
    h *= 0x100000001b3ULL;
  };
  for (std::uint8_t byte : message.bytes) mix(byte);
  for (int i = 0; i < 8; ++i) mix(static_cast<std::uint8_t>(message.bits >> (8 * i)));
  return h;
}

}  // namespace gradquant
