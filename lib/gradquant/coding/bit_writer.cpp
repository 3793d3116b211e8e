#include "gradquant/coding/bit_writer.hpp"

#include <cstring>

namespace gradquant {

void BitWriter::FlushWord() {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out_.bytes.push_back(static_cast<std::uint8_t>(acc_ >> shift));
  }
  ++words_;
}

void BitWriter::PutFloat32(float x) {
  std::uint32_t pattern;
  std::memcpy(&pattern, &x, sizeof pattern);
  Put(pattern, 32);
}

void BitWriter::PutFixed(const std::uint32_t* values, std::size_t count, int nbits) {
  out_.bytes.reserve(out_.bytes.size() + (count * static_cast<std::size_t>(nbits)) / 8 + 8);
  for (std::size_t i = 0; i < count; ++i) Put(values[i], nbits);
}

Message BitWriter::Finish() {
  const std::uint64_t total = BitCount();
  const int tailBytes = (fill_ + 7) / 8;
  for (int i = 0; i < tailBytes; ++i) {
    out_.bytes.push_back(static_cast<std::uint8_t>(acc_ >> (56 - 8 * i)));
  }
  out_.bits = total;
  acc_ = 0;
  fill_ = 0;
  words_ = 0;
  Message done = std::move(out_);
  out_ = Message{};
  return done;
}

}  // namespace gradquant
