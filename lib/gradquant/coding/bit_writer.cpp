#include "gradquant/coding/bit_writer.hpp"

#include <algorithm>
#include <cstring>

namespace gradquant {

void BitWriter::Grow() { buffer_.resize(std::max<std::size_t>(64, 2 * buffer_.size())); }

void BitWriter::Reserve(std::uint64_t bits) {
  const std::uint64_t bytes = (BitCount() + bits + 63) / 64 * 8;
  if (bytes > buffer_.size()) buffer_.resize(bytes);
}

void BitWriter::PutFloat32(float x) {
  std::uint32_t pattern;
  std::memcpy(&pattern, &x, sizeof pattern);
  Put(pattern, 32);
}

void BitWriter::PutFixed(const std::uint32_t* values, std::size_t count, int nbits) {
  Reserve(static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(nbits));
  for (std::size_t i = 0; i < count; ++i) Put(values[i], nbits);
}

Message BitWriter::Finish() {
  Message out;
  out.bits = BitCount();
  const int tailBytes = (fill_ + 7) / 8;
  buffer_.resize(words_ * 8);
  for (int i = 0; i < tailBytes; ++i) {
    buffer_.push_back(static_cast<std::uint8_t>(acc_ >> (56 - 8 * i)));
  }
  out.bytes = std::move(buffer_);
  buffer_.clear();
  acc_ = 0;
  fill_ = 0;
  words_ = 0;
  return out;
}

}  // namespace gradquant
