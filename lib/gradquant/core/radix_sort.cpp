#include "gradquant/core/radix_sort.hpp"

#include <cstdint>
#include <cstring>

namespace gradquant {
namespace {

constexpr int kDigits = 4;
constexpr std::size_t kBuckets = std::size_t{1} << 16;
constexpr std::uint64_t kSign = std::uint64_t{1} << 63;

// Unsigned order of the keys is the order of the doubles: negatives flipped whole, positives
// with the sign bit set.
std::uint64_t Key(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits & kSign ? ~bits : bits | kSign;
}

double Value(std::uint64_t key) {
  const std::uint64_t bits = key & kSign ? key & ~kSign : ~key;
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::size_t Digit(std::uint64_t key, int d) { return (key >> (16 * d)) & (kBuckets - 1); }

// The doubles' own storage serves as the second buffer; keys go in and out through memcpy.
std::uint64_t Load(const unsigned char* buffer, std::size_t i) {
  std::uint64_t key;
  std::memcpy(&key, buffer + 8 * i, sizeof key);
  return key;
}

void Store(unsigned char* buffer, std::size_t i, std::uint64_t key) {
  std::memcpy(buffer + 8 * i, &key, sizeof key);
}

}  // namespace

void RadixSort(std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 2) return;
  std::vector<std::uint64_t> keys(n);
  std::vector<std::size_t> count(kDigits * kBuckets, 0);
  for (std::size_t i = 0; i < n; ++i) {
    keys[i] = Key(values[i]);
    for (int d = 0; d < kDigits; ++d) ++count[d * kBuckets + Digit(keys[i], d)];
  }
  auto* scratch = reinterpret_cast<unsigned char*>(values.data());
  bool inKeys = true;  // where the keys are now: keys, or the scratch
  for (int d = 0; d < kDigits; ++d) {
    std::size_t* offset = &count[d * kBuckets];
    const std::uint64_t any = inKeys ? keys[0] : Load(scratch, 0);
    if (offset[Digit(any, d)] == n) continue;  // every key has this digit
    std::size_t sum = 0;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::size_t c = offset[b];
      offset[b] = sum;
      sum += c;
    }
    if (inKeys) {
      for (std::size_t i = 0; i < n; ++i) Store(scratch, offset[Digit(keys[i], d)]++, keys[i]);
    } else {
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t key = Load(scratch, i);
        keys[offset[Digit(key, d)]++] = key;
      }
    }
    inKeys = !inKeys;
  }
  for (std::size_t i = 0; i < n; ++i) values[i] = Value(inKeys ? keys[i] : Load(scratch, i));
}

}  // namespace gradquant
