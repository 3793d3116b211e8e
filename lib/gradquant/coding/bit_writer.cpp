#include "gradquant/coding/bit_writer.hpp"

#include <algorithm>
#include <cstring>

#include "gradquant/coding/bit_pack.hpp"

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
  if (nbits == 0 || count == 0) return;
  if (nbits > kMaxPackWidth) {  // leading zero bits above 32: field by field
    for (std::size_t i = 0; i < count; ++i) Put(values[i], nbits);
    return;
  }
  Reserve(static_cast<std::uint64_t>(count) * static_cast<std::uint64_t>(nbits));
  constexpr std::size_t kBlock = 1024;  // fields packed per step: 32 words per width bit
  std::uint64_t words[kBlock / 64 * kMaxPackWidth];
  for (std::size_t i = 0; i < count; i += kBlock) {
    const std::size_t len = std::min(kBlock, count - i);
    PackFixed(values + i, len, nbits, words);
    PutWords(words, static_cast<std::uint64_t>(len) * static_cast<std::uint64_t>(nbits));
  }
}

void BitWriter::PutWords(const std::uint64_t* words, std::uint64_t bits) {
  Reserve(bits);
  const std::uint64_t whole = bits / 64;
  if (fill_ == 0) {
    for (std::uint64_t k = 0; k < whole; ++k) {
      const std::uint64_t bigEndian = __builtin_bswap64(words[k]);
      std::memcpy(buffer_.data() + (words_ + k) * 8, &bigEndian, 8);
    }
    words_ += whole;
  } else {
    // Each word completes the pending word and leaves its low fill_ bits pending.
    const int keep = fill_;
    std::uint64_t acc = acc_;
    std::uint8_t* out = buffer_.data() + words_ * 8;
    for (std::uint64_t k = 0; k < whole; ++k) {
      const std::uint64_t bigEndian = __builtin_bswap64(acc | (words[k] >> keep));
      std::memcpy(out + k * 8, &bigEndian, 8);
      acc = words[k] << (64 - keep);
    }
    acc_ = acc;
    words_ += whole;
  }
  const int rest = static_cast<int>(bits % 64);
  if (rest) Put(words[whole] >> (64 - rest), rest);
}

void BitWriter::Append(const Message& message) {
  constexpr std::size_t kBatch = 256;
  std::uint64_t words[kBatch];
  const std::size_t size = message.bytes.size();
  std::size_t at = 0;  // byte offset of the next word
  std::uint64_t left = message.bits;
  while (left > 0) {
    const std::uint64_t bits = std::min<std::uint64_t>(left, 64 * kBatch);
    const std::size_t count = static_cast<std::size_t>((bits + 63) / 64);
    for (std::size_t k = 0; k < count; ++k, at += 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, message.bytes.data() + at, std::min<std::size_t>(8, size - at));
      words[k] = __builtin_bswap64(word);  // bytes past the end stay zero
    }
    PutWords(words, bits);
    left -= bits;
  }
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
