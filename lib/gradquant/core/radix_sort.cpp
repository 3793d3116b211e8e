#include "gradquant/core/radix_sort.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gradquant/core/float_bits.hpp"
#include "gradquant/core/parallel.hpp"

namespace gradquant {
namespace {

// Three digits of 11 bits: 2^11 buckets keep the scatter's write positions in cache.
constexpr int kDigitBits = 11;
constexpr int kDigits = 3;
constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
constexpr std::uint32_t kSign = std::uint32_t{1} << 31;
// Pools above this are cut into kBlocks blocks, each histogrammed and scattered on its own.
constexpr std::size_t kSplitAbove = std::size_t{1} << 20;
constexpr std::size_t kBlocks = 8;

// Unsigned order of the keys is the order of the floats: negatives flipped whole, positives
// with the sign bit set.
std::uint32_t Key(float v) {
  const std::uint32_t bits = FloatBits(v);
  return bits & kSign ? ~bits : bits | kSign;
}

float Value(std::uint32_t key) { return BitsFloat(key & kSign ? key & ~kSign : ~key); }

std::size_t Digit(std::uint32_t key, int d) { return (key >> (kDigitBits * d)) & (kBuckets - 1); }

// The floats' own storage serves as the second buffer; keys go in and out through memcpy.
std::uint32_t Load(const unsigned char* buffer, std::size_t i) {
  std::uint32_t key;
  std::memcpy(&key, buffer + 4 * i, sizeof key);
  return key;
}

void Store(unsigned char* buffer, std::size_t i, std::uint32_t key) {
  std::memcpy(buffer + 4 * i, &key, sizeof key);
}

std::size_t BlockBegin(std::size_t block, std::size_t blocks, std::size_t n) {
  return n / blocks * block + std::min(block, n % blocks);
}

}  // namespace

void RadixSort(std::vector<float>& values) {
  const std::size_t n = values.size();
  if (n < 2) return;
  const std::size_t blocks = n > kSplitAbove ? kBlocks : 1;
  std::vector<std::uint32_t> keys(n);
  auto* scratch = reinterpret_cast<unsigned char*>(values.data());
  bool inKeys = true;  // where the keys are now: keys, or the scratch
  auto key = [&](std::size_t i) { return inKeys ? keys[i] : Load(scratch, i); };
  SplitFor(blocks, [&](std::size_t b) {
    for (std::size_t i = BlockBegin(b, blocks, n); i < BlockBegin(b + 1, blocks, n); ++i) {
      keys[i] = Key(values[i]);
    }
  });
  // count[b * kBuckets + v]: how many keys of block b (as the keys lie now) have digit v.
  std::vector<std::size_t> count(blocks * kBuckets);
  for (int d = 0; d < kDigits; ++d) {
    std::fill(count.begin(), count.end(), 0);
    SplitFor(blocks, [&](std::size_t b) {
      std::size_t* c = &count[b * kBuckets];
      for (std::size_t i = BlockBegin(b, blocks, n); i < BlockBegin(b + 1, blocks, n); ++i) {
        ++c[Digit(key(i), d)];
      }
    });
    const std::size_t any = Digit(key(0), d);
    std::size_t withAny = 0;
    for (std::size_t b = 0; b < blocks; ++b) withAny += count[b * kBuckets + any];
    if (withAny == n) continue;  // every key has this digit
    // Block b's keys with digit v go after every key of a smaller digit and after the keys with
    // digit v of the blocks before b: a stable scatter.
    std::size_t sum = 0;
    for (std::size_t v = 0; v < kBuckets; ++v) {
      for (std::size_t b = 0; b < blocks; ++b) {
        const std::size_t c = count[b * kBuckets + v];
        count[b * kBuckets + v] = sum;
        sum += c;
      }
    }
    SplitFor(blocks, [&](std::size_t b) {
      std::size_t* offset = &count[b * kBuckets];
      const std::size_t end = BlockBegin(b + 1, blocks, n);
      if (inKeys) {
        for (std::size_t i = BlockBegin(b, blocks, n); i < end; ++i) {
          Store(scratch, offset[Digit(keys[i], d)]++, keys[i]);
        }
      } else {
        for (std::size_t i = BlockBegin(b, blocks, n); i < end; ++i) {
          const std::uint32_t k = Load(scratch, i);
          keys[offset[Digit(k, d)]++] = k;
        }
      }
    });
    inKeys = !inKeys;
  }
  SplitFor(blocks, [&](std::size_t b) {
    for (std::size_t i = BlockBegin(b, blocks, n); i < BlockBegin(b + 1, blocks, n); ++i) {
      values[i] = Value(key(i));
    }
  });
}

}  // namespace gradquant
