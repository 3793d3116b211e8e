#include "gradquant/coding/trits.hpp"

#include <stdexcept>

namespace gradquant {
namespace {

constexpr std::size_t kTritsPerByte = 5;
constexpr std::uint32_t kMaxByte = 242;  // 3^5 - 1

}  // namespace

TritPacking ParseTritPacking(const std::string& name) {
  if (name == "2bit") return TritPacking::kTwoBit;
  if (name == "base3") return TritPacking::kBase3;
  throw std::invalid_argument("unknown trit packing '" + name + "'");
}

std::uint64_t TritBits(std::uint64_t count, TritPacking packing) {
  if (packing == TritPacking::kTwoBit) return 2 * count;
  return 8 * ((count + kTritsPerByte - 1) / kTritsPerByte);
}

void PutTrits(BitWriter& w, const std::int8_t* trits, std::size_t count, TritPacking packing) {
  if (packing == TritPacking::kTwoBit) {
    for (std::size_t i = 0; i < count; ++i) w.Put(static_cast<std::uint64_t>(trits[i] + 1), 2);
    return;
  }
  for (std::size_t i = 0; i < count; i += kTritsPerByte) {
    std::uint32_t byte = 0;
    for (std::size_t j = 0; j < kTritsPerByte; ++j) {
      // Missing digits of the last group are 0, which the decoder checks.
      const std::uint32_t digit = i + j < count ? static_cast<std::uint32_t>(trits[i + j] + 1) : 0;
      byte = 3 * byte + digit;
    }
    w.Put(byte, 8);
  }
}

void GetTrits(BitReader& r, std::int8_t* trits, std::size_t count, TritPacking packing) {
  if (TritBits(count, packing) > r.Remaining()) {
    r.Fail("ends before its " + std::to_string(count) + " trits");
  }
  if (packing == TritPacking::kTwoBit) {
    for (std::size_t i = 0; i < count; ++i) {
      const auto digit = r.Get(2);
      if (digit > 2) r.Fail("trit pattern 11 at trit " + std::to_string(i));
      trits[i] = static_cast<std::int8_t>(static_cast<int>(digit) - 1);
    }
    return;
  }
  for (std::size_t i = 0; i < count; i += kTritsPerByte) {
    auto byte = static_cast<std::uint32_t>(r.Get(8));
    if (byte > kMaxByte) r.Fail("base-3 byte " + std::to_string(byte) + " above 242");
    std::uint32_t digits[kTritsPerByte];
    for (std::size_t j = kTritsPerByte; j-- > 0;) {
      digits[j] = byte % 3;
      byte /= 3;
    }
    for (std::size_t j = 0; j < kTritsPerByte; ++j) {
      if (i + j < count) {
        trits[i + j] = static_cast<std::int8_t>(static_cast<int>(digits[j]) - 1);
      } else if (digits[j] != 0) {
        r.Fail("non-zero padding digit in the last base-3 byte");
      }
    }
  }
}

}  // namespace gradquant
