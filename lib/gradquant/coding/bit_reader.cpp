#include "gradquant/coding/bit_reader.hpp"

#include <cstring>

#include "gradquant/coding/bit_pack.hpp"
#include "gradquant/core/error.hpp"

namespace gradquant {

BitReader::BitReader(const Message& message, std::string what)
    : data_(message.bytes.data()),
      size_(message.bytes.size()),
      bits_(message.bits),
      what_(std::move(what)) {
  if (size_ != bits_ / 8 + (bits_ % 8 != 0)) {  // (bits_ + 7) / 8 wraps near 2^64
    Fail("holds " + std::to_string(size_) + " bytes but declares " + std::to_string(bits_) +
         " bits");
  }
}

void BitReader::Fail(const std::string& problem) const {
  throw FormatError("message " + what_ + ": " + problem);
}

void BitReader::FailShort(int nbits) const {
  Fail("ends after " + std::to_string(bits_) + " bits, " + std::to_string(nbits) +
       " more wanted at bit " + std::to_string(pos_));
}

float BitReader::GetFloat32() {
  const auto pattern = static_cast<std::uint32_t>(Get(32));
  float x;
  std::memcpy(&x, &pattern, sizeof x);
  return x;
}

void BitReader::CheckFixed(std::size_t count, int nbits) const {
  if (static_cast<std::uint64_t>(nbits) * count > bits_ - pos_) {
    Fail("ends after " + std::to_string(bits_) + " bits, " + std::to_string(count) + " fields of " +
         std::to_string(nbits) + " bits wanted at bit " + std::to_string(pos_));
  }
}

BitReader BitReader::At(std::uint64_t pos) const {
  if (pos > bits_) Fail("position " + std::to_string(pos) + " past the end");
  BitReader r = *this;
  r.pos_ = pos;
  return r;
}

void BitReader::GetFixed(std::uint32_t* values, std::size_t count, int nbits) {
  CheckFixed(count, nbits);
  if (nbits == 0 || nbits > kMaxPackWidth) {  // no field, or leading zeros above 32 bits
    for (std::size_t i = 0; i < count; ++i)
      values[i] = static_cast<std::uint32_t>(GetUnchecked(nbits));
    return;
  }
  UnpackFixed(data_, size_, pos_, nbits, count, values);
  pos_ += static_cast<std::uint64_t>(nbits) * count;
}

void BitReader::GetBitsAsFloats(std::size_t count, float ifOne, float ifZero, float* out) {
  if (count > bits_ - pos_) {
    pos_ = bits_;  // every available bit read, then the next one is missing
    FailShort(1);
  }
  UnpackBitsAsFloats(data_, size_, pos_, count, ifOne, ifZero, out);
  pos_ += count;
}

void BitReader::PeekFixed(std::uint64_t at, std::uint32_t* values, std::size_t count,
                          int nbits) const {
  if (at > bits_ || static_cast<std::uint64_t>(nbits) * count > bits_ - at) {
    Fail("ends after " + std::to_string(bits_) + " bits, " + std::to_string(count) + " fields of " +
         std::to_string(nbits) + " bits wanted at bit " + std::to_string(at));
  }
  if (nbits == 0) {
    for (std::size_t i = 0; i < count; ++i) values[i] = 0;
    return;
  }
  UnpackFixed(data_, size_, at, nbits, count, values);
}

void BitReader::Skip(std::uint64_t nbits) {
  if (nbits > bits_ - pos_) {
    Fail("ends after " + std::to_string(bits_) + " bits, " + std::to_string(nbits) +
         " more wanted at bit " + std::to_string(pos_));
  }
  pos_ += nbits;
}

void BitReader::ExpectEnd() const {
  if (pos_ != bits_) {
    Fail("has " + std::to_string(bits_ - pos_) + " unread bits after bit " + std::to_string(pos_) +
         " of " + std::to_string(bits_));
  }
  const int pad = static_cast<int>(size_ * 8 - bits_);
  if (pad > 0 && (data_[size_ - 1] & ((1u << pad) - 1)) != 0) Fail("has non-zero padding bits");
}

}  // namespace gradquant
