#pragma once
/**
 * @file bit_writer.hpp
 * Bit-level output for every gradquant bitstream.
 *
 * **Bit order (the one place it is defined):** bits are written MSB-first. The first bit written
 * is the most significant bit of byte 0; a field of n bits written with Put(v, n) appears with
 * its most significant bit first. The last byte is padded with zero bits, which are not counted
 * in Message::bits. BitReader reads in the same order.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/coding/message.hpp"

namespace gradquant {

/** Appends bit fields to a growing buffer; Finish() hands over the message. */
class BitWriter {
 public:
  /** Writes the low @p nbits bits of @p value (0 <= nbits <= 64), MSB first. */
  void Put(std::uint64_t value, int nbits) {
    if (nbits == 0) return;
    if (nbits < 64) value &= (std::uint64_t{1} << nbits) - 1;
    const int space = 64 - fill_;
    if (nbits < space) {
      acc_ |= value << (space - nbits);
      fill_ += nbits;
      return;
    }
    const int rest = nbits - space;
    acc_ |= value >> rest;
    FlushWord();
    acc_ = rest ? value << (64 - rest) : 0;
    fill_ = rest;
  }

  /** Writes one bit. */
  void PutBit(bool bit) { Put(bit ? 1 : 0, 1); }

  /** Writes the IEEE-754 binary32 pattern of @p x (32 bits). */
  void PutFloat32(float x);

  /** Writes @p count values of @p nbits bits each (each value must fit in nbits). */
  void PutFixed(const std::uint32_t* values, std::size_t count, int nbits);

  /** Number of bits written so far. */
  std::uint64_t BitCount() const { return words_ * 64 + static_cast<std::uint64_t>(fill_); }

  /** Reserves room for @p bits more bits (an optimisation only). */
  void Reserve(std::uint64_t bits);

  /** Flushes the partial word, pads the last byte with zeros and returns the message. */
  Message Finish();

 private:
  void FlushWord() {
    if ((words_ + 1) * 8 > buffer_.size()) Grow();
    const std::uint64_t bigEndian = __builtin_bswap64(acc_);
    __builtin_memcpy(buffer_.data() + words_ * 8, &bigEndian, 8);
    ++words_;
  }
  void Grow();

  std::vector<std::uint8_t> buffer_;  // whole words written so far, big-endian
  std::uint64_t acc_ = 0;             // pending bits, left-aligned
  int fill_ = 0;                      // number of pending bits in acc_
  std::uint64_t words_ = 0;
};

}  // namespace gradquant
