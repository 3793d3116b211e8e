#pragma once
/**
 * @file sign_bits.hpp
 * One bit per coordinate, written a word at a time: the sign bit of signSGD, scaled sign and
 * S3GD-MV (1 = negative, sign(0) = +1: docs/quantizers.md#signs) and 1-bit SGD's "positive" bit.
 */
#include <cstddef>

#include "gradquant/coding/bit_pack.hpp"
#include "gradquant/coding/bit_writer.hpp"

namespace gradquant {

/** Writes bit_i = (g_i < 0), or (g_i > 0) when @p positive, for i < n: as n PutBit calls. */
inline void PutSignBits(BitWriter& w, const float* g, std::size_t n, bool positive = false) {
  constexpr std::size_t kBlock = 4096;
  std::uint64_t words[kBlock / 64];
  for (std::size_t c = 0; c < n; c += kBlock) {
    const std::size_t len = n - c < kBlock ? n - c : kBlock;
    PackSignBits(g + c, len, positive, words);
    w.PutWords(words, len);
  }
}

}  // namespace gradquant
