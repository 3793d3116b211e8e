#pragma once
/**
 * @file bit_pack.hpp
 * Word-wise packing of fixed-width fields, the bulk path behind BitWriter::PutFixed and
 * BitReader::GetFixed. The bit order is BitWriter's (MSB-first, see bit_writer.hpp): field j of
 * width W occupies bits [jW, (j+1)W) of the packed string, its most significant bit first.
 *
 * Blocks of 64 fields fill exactly W 64-bit words, so each width has an unrolled kernel with
 * constant shifts (no per-field branch, no bit-by-bit loop).
 */
#include <cstddef>
#include <cstdint>

namespace gradquant {

/** Widest field PackFixed and UnpackFixed handle. */
constexpr int kMaxPackWidth = 32;

/**
 * Packs @p count fields of @p width bits (1..32) into MSB-first words: ceil(count·width/64)
 * words are written, the unused low bits of the last one zero. Values are masked to @p width
 * bits, as BitWriter::Put does.
 */
void PackFixed(const std::uint32_t* values, std::size_t count, int width, std::uint64_t* words);

/**
 * Unpacks @p count fields of @p width bits (1..32) starting at bit @p bitPos of the MSB-first
 * byte string data[0..size). The caller guarantees bitPos + count·width <= 8·size.
 */
void UnpackFixed(const std::uint8_t* data, std::size_t size, std::uint64_t bitPos, int width,
                 std::size_t count, std::uint32_t* values);

/**
 * Packs one bit per value, MSB-first, into ceil(n/64) words: bit i = (g_i < 0), or (g_i > 0)
 * when @p positive (NaN gives 0 either way, as the C++ comparisons do).
 */
void PackSignBits(const float* g, std::size_t n, bool positive, std::uint64_t* words);

/**
 * out_i = bit_i ? ifOne : ifZero for the @p count bits starting at bit @p bitPos of the
 * MSB-first byte string data[0..size). The caller guarantees bitPos + count <= 8·size.
 */
void UnpackBitsAsFloats(const std::uint8_t* data, std::size_t size, std::uint64_t bitPos,
                        std::size_t count, float ifOne, float ifZero, float* out);

}  // namespace gradquant
