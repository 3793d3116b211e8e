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

  /**
   * Writes @p count values of @p nbits bits each (0 <= nbits <= 32; values are masked to nbits,
   * as Put does), packed a word at a time.
   */
  void PutFixed(const std::uint32_t* values, std::size_t count, int nbits);

  /**
   * Appends the first @p bits bits of the MSB-first word string @p words (as PackFixed makes
   * them): the same as Put(words[k], 64) for each whole word and a final partial Put.
   */
  void PutWords(const std::uint64_t* words, std::uint64_t bits);

  /** Appends the bits of @p message (its `bits` bits, as if they were written here). */
  void Append(const Message& message);

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

/**
 * A register-resident front for a BitWriter: fields of up to 63 bits collect in a local word,
 * which goes to the writer 64 bits at a time. For loops that write many short codes (gamma
 * gaps, sign bits); the bits are exactly those of the same Put calls on the writer.
 */
class LocalBits {
 public:
  explicit LocalBits(BitWriter& w) : w_(w) {}
  LocalBits(const LocalBits&) = delete;
  LocalBits& operator=(const LocalBits&) = delete;
  ~LocalBits() { Flush(); }

  /** Writes the low @p nbits (1..63) bits of @p value, which must have no higher bits set. */
  void Put(std::uint64_t value, int nbits) {
    if (fill_ + nbits < 64) {
      acc_ = (acc_ << nbits) | value;
      fill_ += nbits;
      return;
    }
    const int rest = fill_ + nbits - 64;  // bits of value that do not fit this word
    w_.Put((acc_ << (64 - fill_)) | (value >> rest), 64);
    acc_ = rest ? value & ((std::uint64_t{1} << rest) - 1) : 0;
    fill_ = rest;
  }

  /** Hands the pending bits to the writer (also done on destruction). */
  void Flush() {
    w_.Put(acc_, fill_);
    acc_ = 0;
    fill_ = 0;
  }

 private:
  BitWriter& w_;
  std::uint64_t acc_ = 0;  // pending bits, right-aligned
  int fill_ = 0;
};

}  // namespace gradquant
