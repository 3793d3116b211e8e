#pragma once
/**
 * @file trits.hpp
 * Fixed-length packing of ternary symbols t ∈ {−1, 0, +1} (TernGrad's messages, the ternary
 * majority vote of signSGD), written with BitWriter's bit order (MSB first).
 *
 * Every trit is first mapped to a digit d = t + 1 ∈ {0, 1, 2}. Two packings:
 * - **2bit**: each digit in 2 bits; the pattern 3 is invalid. count trits cost 2·count bits.
 * - **base3**: 5 digits per byte, byte = Σ_{j<5} d_j·3^{4−j} (the first trit is the most
 *   significant digit), so a byte is at most 242. A last group of r < 5 trits still takes a
 *   whole byte, its missing digits being 0. count trits cost 8·⌈count/5⌉ bits (1.6 bits per
 *   trit against the ideal log2 3 ≈ 1.585).
 *
 * The decoders reject an invalid 2-bit pattern, a byte above 242, and non-zero padding digits
 * with FormatError, so every accepted stream is the unique encoding of its trits.
 */
#include <cstddef>
#include <cstdint>
#include <string>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

/** How trits are packed into bits. */
enum class TritPacking {
  kTwoBit,  ///< 2 bits per trit
  kBase3,   ///< 5 trits per byte
};

/** Parses "2bit" or "base3" (the spec values). @throws std::invalid_argument otherwise. */
TritPacking ParseTritPacking(const std::string& name);

/** Bits taken by @p count trits: 2·count or 8·⌈count/5⌉. */
std::uint64_t TritBits(std::uint64_t count, TritPacking packing);

/** Writes @p count trits (each in {−1, 0, +1}). */
void PutTrits(BitWriter& w, const std::int8_t* trits, std::size_t count, TritPacking packing);

/**
 * Reads @p count trits into @p trits.
 * @param first the position of trits[0] in its array, for error texts (a part of an array
 *        read on its own reports the same positions as the whole).
 * @throws FormatError past the end of the message or on an invalid pattern.
 */
void GetTrits(BitReader& r, std::int8_t* trits, std::size_t count, TritPacking packing,
              std::size_t first = 0);

/** Throws the FormatError GetTrits(count) would throw for a message too short to hold them. */
void CheckTrits(const BitReader& r, std::size_t count, TritPacking packing);

}  // namespace gradquant
