#include "gradquant/io/chunk_filters.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace gradquant::detail {
namespace {

std::uint32_t Fold(std::uint32_t sum) { return (sum & 0xffffu) + (sum >> 16); }

std::uint32_t SwapBytePairs(std::uint32_t v) {
  return ((v & 0x00ff00ffu) << 8) | ((v >> 8) & 0x00ff00ffu);
}

std::uint32_t ByteSwap(std::uint32_t v) { return __builtin_bswap32(v); }

// Strips the trailing checksum. HDF5 accepts the checksum in either byte order (writers of
// different versions disagree) and the byte-pair-swapped form written before 1.6.3.
bool CheckFletcher32(std::vector<std::uint8_t>& buffer) {
  if (buffer.size() < 4) return false;
  const std::size_t size = buffer.size() - 4;
  std::uint32_t stored;
  std::memcpy(&stored, buffer.data() + size, 4);
  const std::uint32_t sum = Fletcher32(buffer.data(), size);
  const std::uint32_t pairs = SwapBytePairs(sum);
  const bool ok =
      stored == sum || stored == pairs || ByteSwap(stored) == sum || ByteSwap(stored) == pairs;
  buffer.resize(size);
  return ok;
}

bool Inflate(const std::vector<std::uint8_t>& in, std::size_t expected,
             std::vector<std::uint8_t>& out) {
  if (in.size() > std::numeric_limits<uLong>::max() ||
      expected > std::numeric_limits<uLongf>::max()) {
    return false;
  }
  out.resize(expected);
  uLongf produced = static_cast<uLongf>(expected);
  const int rc = uncompress(out.data(), &produced, in.data(), static_cast<uLong>(in.size()));
  return rc == Z_OK && produced == expected;
}

// HDF5's shuffle for 4-byte elements: byte b of every element stored together, in element
// order; the bytes after the last whole element stay at the end.
void Unshuffle(const std::vector<std::uint8_t>& in, std::vector<std::uint8_t>& out) {
  const std::size_t elements = in.size() / 4;
  out.resize(in.size());
  for (std::size_t b = 0; b < 4; ++b) {
    const std::uint8_t* plane = in.data() + b * elements;
    for (std::size_t i = 0; i < elements; ++i) out[4 * i + b] = plane[i];
  }
  std::copy(in.begin() + static_cast<std::ptrdiff_t>(4 * elements), in.end(),
            out.begin() + static_cast<std::ptrdiff_t>(4 * elements));
}

}  // namespace

std::uint32_t Fletcher32(const std::uint8_t* bytes, std::size_t size) {
  std::uint32_t sum1 = 0, sum2 = 0;
  std::size_t words = size / 2;
  // 360 words keep both sums below 2^32 before folding.
  while (words > 0) {
    const std::size_t block = std::min<std::size_t>(words, 360);
    words -= block;
    for (std::size_t i = 0; i < block; ++i, bytes += 2) {
      sum1 += (static_cast<std::uint32_t>(bytes[0]) << 8) | bytes[1];
      sum2 += sum1;
    }
    sum1 = Fold(sum1);
    sum2 = Fold(sum2);
  }
  if (size % 2 != 0) {
    sum1 += static_cast<std::uint32_t>(bytes[0]) << 8;
    sum2 += sum1;
    sum1 = Fold(sum1);
    sum2 = Fold(sum2);
  }
  return (Fold(sum2) << 16) | Fold(sum1);
}

bool UndoFilters(const std::vector<ChunkFilter>& pipeline, std::vector<std::uint8_t>& stored,
                 std::size_t rawSize, std::vector<std::uint8_t>& raw) {
  // The size of the data after undoing stage s: the raw size plus the checksums added before s.
  std::vector<std::size_t> sizeBefore(pipeline.size());
  std::size_t size = rawSize;
  for (std::size_t s = 0; s < pipeline.size(); ++s) {
    sizeBefore[s] = size;
    if (pipeline[s] == ChunkFilter::kFletcher32) size += 4;
  }
  for (std::size_t s = pipeline.size(); s-- > 0;) {
    switch (pipeline[s]) {
      case ChunkFilter::kFletcher32:
        if (!CheckFletcher32(stored)) return false;
        break;
      case ChunkFilter::kDeflate:
        if (!Inflate(stored, sizeBefore[s], raw)) return false;
        stored.swap(raw);
        break;
      case ChunkFilter::kShuffle:
        Unshuffle(stored, raw);
        stored.swap(raw);
        break;
    }
  }
  if (stored.size() != rawSize) return false;
  raw.swap(stored);
  return true;
}

}  // namespace gradquant::detail
