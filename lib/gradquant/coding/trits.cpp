#include "gradquant/coding/trits.hpp"

#include <algorithm>
#include <array>
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
    constexpr std::size_t kBlock = 1024;
    std::uint32_t digits[kBlock];
    for (std::size_t b = 0; b < count; b += kBlock) {
      const std::size_t len = std::min(kBlock, count - b);
      for (std::size_t i = 0; i < len; ++i) {
        digits[i] = static_cast<std::uint32_t>(trits[b + i] + 1);
      }
      w.PutFixed(digits, len, 2);
    }
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

void CheckTrits(const BitReader& r, std::size_t count, TritPacking packing) {
  if (TritBits(count, packing) > r.Remaining()) {
    r.Fail("ends before its " + std::to_string(count) + " trits");
  }
}

void GetTrits(BitReader& r, std::int8_t* trits, std::size_t count, TritPacking packing,
              std::size_t first) {
  CheckTrits(r, count, packing);
  if (packing == TritPacking::kTwoBit) {
    constexpr std::size_t kBlock = 1024;
    std::uint32_t digits[kBlock];
    for (std::size_t b = 0; b < count; b += kBlock) {
      const std::size_t len = std::min(kBlock, count - b);
      r.GetFixed(digits, len, 2);
      std::uint32_t worst = 0;
      for (std::size_t i = 0; i < len; ++i) {
        worst = std::max(worst, digits[i]);
        trits[b + i] = static_cast<std::int8_t>(static_cast<int>(digits[i]) - 1);
      }
      if (worst > 2) {
        const auto bad = std::find(digits, digits + len, 3u) - digits;
        r.Fail("trit pattern 11 at trit " +
               std::to_string(first + b + static_cast<std::size_t>(bad)));
      }
    }
    return;
  }
  // Whole bytes through a table of the 243 valid bytes' digits, the last byte checked apart.
  static const auto kDigits = [] {
    std::array<std::array<std::int8_t, kTritsPerByte>, kMaxByte + 1> table{};
    for (std::uint32_t byte = 0; byte <= kMaxByte; ++byte) {
      std::uint32_t rest = byte;
      for (std::size_t j = kTritsPerByte; j-- > 0;) {
        table[byte][j] = static_cast<std::int8_t>(static_cast<int>(rest % 3) - 1);
        rest /= 3;
      }
    }
    return table;
  }();
  constexpr std::size_t kBlock = 1024;
  std::uint32_t bytes[kBlock];
  const std::size_t total = (count + kTritsPerByte - 1) / kTritsPerByte;
  for (std::size_t b = 0; b < total; b += kBlock) {
    const std::size_t len = std::min(kBlock, total - b);
    r.GetFixed(bytes, len, 8);
    for (std::size_t k = 0; k < len; ++k) {
      const std::uint32_t byte = bytes[k];
      if (byte > kMaxByte) r.Fail("base-3 byte " + std::to_string(byte) + " above 242");
      const std::size_t i = (b + k) * kTritsPerByte;
      const auto& digits = kDigits[byte];
      for (std::size_t j = 0; j < kTritsPerByte; ++j) {
        if (i + j < count) {
          trits[i + j] = digits[j];
        } else if (digits[j] != -1) {
          r.Fail("non-zero padding digit in the last base-3 byte");
        }
      }
    }
  }
}

}  // namespace gradquant
