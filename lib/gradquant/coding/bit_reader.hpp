#pragma once
/**
 * @file bit_reader.hpp
 * Bit-level input, the mirror of BitWriter (MSB-first; see bit_writer.hpp). Every read is
 * bounds-checked against the message's exact bit count: reading past it throws FormatError,
 * so a truncated or corrupt message can never cause an out-of-bounds read.
 */
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradquant/coding/message.hpp"

namespace gradquant {

/** Reads bit fields from a message. The message must outlive the reader. */
class BitReader {
 public:
  /**
   * @param message the message to read; its byte count must be ceil(bits/8).
   * @param what names the message in error texts, e.g. "qsgd:s=4 conv1.weight record 0 worker 2".
   * @throws FormatError if the byte count and the bit count disagree.
   */
  BitReader(const Message& message, std::string what);

  /** Reads @p nbits bits (0 <= nbits <= 64). @throws FormatError past the end. */
  std::uint64_t Get(int nbits) {
    if (static_cast<std::uint64_t>(nbits) > bits_ - pos_) FailShort(nbits);
    return GetUnchecked(nbits);
  }

  /** Reads one bit. @throws FormatError past the end. */
  bool GetBit() { return Get(1) != 0; }

  /** Reads a binary32 float. @throws FormatError past the end. */
  float GetFloat32();

  /** Reads @p count fixed-width values. @throws FormatError past the end. */
  void GetFixed(std::uint32_t* values, std::size_t count, int nbits);

  /**
   * Reads @p count single bits as out_i = bit ? ifOne : ifZero. Past the end it throws what
   * GetBit() would at the first missing bit.
   */
  void GetBitsAsFloats(std::size_t count, float ifOne, float ifZero, float* out);

  /** Throws the FormatError GetFixed(count, nbits) would throw, if the fields do not fit. */
  void CheckFixed(std::size_t count, int nbits) const;

  /**
   * Reads @p count fixed-width values (1 <= nbits <= 32) at the absolute bit position @p at
   * without moving the read position: for decoding parts of one field array in parallel.
   * @throws FormatError if they run past the end of the message.
   */
  void PeekFixed(std::uint64_t at, std::uint32_t* values, std::size_t count, int nbits) const;

  /**
   * A reader of the same message placed at bit @p pos (<= the bit count): for decoding parts of
   * a message whose offsets the format fixes, in parallel.
   */
  BitReader At(std::uint64_t pos) const;

  /** Moves the read position @p nbits bits on. @throws FormatError past the end. */
  void Skip(std::uint64_t nbits);

  /** The read position: bits consumed so far. */
  std::uint64_t Position() const { return pos_; }

  /**
   * The next bits from the read position, MSB-aligned, without moving: at least the first 57
   * are the message's (bits past its end read as zero, padding as stored). For fast decoders of
   * variable-length codes, which must check Remaining() before using a field.
   */
  std::uint64_t Window() const { return Peek57(pos_); }

  /** Bits left before the end of the message. */
  std::uint64_t Remaining() const { return bits_ - pos_; }

  /** @throws FormatError unless every bit was consumed and the padding is zero. */
  void ExpectEnd() const;

  /** Throws FormatError with the message's name and @p problem. */
  [[noreturn]] void Fail(const std::string& problem) const;

 private:
  [[noreturn]] void FailShort(int nbits) const;

  // The 64-bit big-endian window whose first bit is bit `pos`; at least 57 bits are valid.
  // Bytes past the end read as zero.
  std::uint64_t Peek57(std::uint64_t pos) const {
    const std::size_t byte = static_cast<std::size_t>(pos >> 3);
    std::uint64_t window = 0;
    if (byte + 8 <= size_) {
      __builtin_memcpy(&window, data_ + byte, 8);
      window = __builtin_bswap64(window);
    } else {
      for (std::size_t i = 0; i < 8; ++i) {
        window = (window << 8) | (byte + i < size_ ? data_[byte + i] : 0);
      }
    }
    return window << (pos & 7);
  }

  // Get without the bounds check; the caller has checked.
  std::uint64_t GetUnchecked(int nbits) {
    if (nbits == 0) return 0;
    std::uint64_t value;
    if (nbits <= 57) {
      value = Peek57(pos_) >> (64 - nbits);
    } else {
      const int high = nbits - 32;
      value = (Peek57(pos_) >> (64 - high)) << 32;
      value |= Peek57(pos_ + static_cast<std::uint64_t>(high)) >> 32;
    }
    pos_ += static_cast<std::uint64_t>(nbits);
    return value;
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::uint64_t bits_;
  std::uint64_t pos_ = 0;
  std::string what_;
};

}  // namespace gradquant
