#pragma once
/**
 * @file codes.hpp
 * Universal codes for positive integers (n >= 1), written with BitWriter's bit order.
 *
 * - Elias-gamma: floor(log2 n) zeros, then n in binary (floor(log2 n)+1 bits).
 *   Length 2*floor(log2 n) + 1.
 * - Elias-delta: gamma(floor(log2 n) + 1), then the floor(log2 n) low bits of n.
 *   Length floor(log2 n) + 2*floor(log2(floor(log2 n) + 1)) + 1.
 * - Elias-omega (recursive, QSGD's "Elias"): groups n, then bitlen(n)-1, ... down to a group
 *   for a value > 1, each in binary, most recent first, ended by a single 0 bit. omega(1) = "0".
 *
 * Decoders throw FormatError on a stream that ends early or encodes a value over 2^64 - 1.
 */
#include <cstdint>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

/** Number of bits of n in binary (BitLength(1) = 1, BitLength(0) = 0). */
int BitLength(std::uint64_t n);

/** Smallest w with 2^w >= count (the width of a fixed field with `count` symbols). */
int CeilLog2(std::uint64_t count);

/** Writes Elias-gamma(n), n >= 1. */
void PutGamma(BitWriter& w, std::uint64_t n);
/** Reads Elias-gamma. @throws FormatError */
std::uint64_t GetGamma(BitReader& r);
/** Length of Elias-gamma(n) in bits. */
int GammaLength(std::uint64_t n);

/** Writes Elias-delta(n), n >= 1. */
void PutDelta(BitWriter& w, std::uint64_t n);
/** Reads Elias-delta. @throws FormatError */
std::uint64_t GetDelta(BitReader& r);
/** Length of Elias-delta(n) in bits. */
int DeltaLength(std::uint64_t n);

/** Writes Elias-omega(n), n >= 1. */
void PutOmega(BitWriter& w, std::uint64_t n);
/** Reads Elias-omega. @throws FormatError */
std::uint64_t GetOmega(BitReader& r);
/** Length of Elias-omega(n) in bits. */
int OmegaLength(std::uint64_t n);

}  // namespace gradquant
