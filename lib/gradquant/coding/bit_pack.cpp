#include "gradquant/coding/bit_pack.hpp"

#include <immintrin.h>

#include <cstring>
#include <utility>

#include "gradquant/core/cpu.hpp"

namespace gradquant {
namespace {

// 64 fields of W bits into W words, constant shifts after unrolling; the words are built in
// locals (registers), each an independent chain of shifts and ors.
template <int W>
void PackBlock(const std::uint32_t* v, std::uint64_t* out) {
  constexpr std::uint64_t kMask = W == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << W) - 1;
  std::uint64_t acc[W + 1] = {};
#pragma GCC unroll 64
  for (int j = 0; j < 64; ++j) {
    const std::uint64_t x = v[j] & kMask;
    const int bit = j * W, word = bit / 64, shift = 64 - bit % 64 - W;
    if (shift >= 0) {
      acc[word] |= x << shift;
    } else {
      acc[word] |= x >> -shift;
      acc[word + 1] |= x << (64 + shift);
    }
  }
  for (int k = 0; k < W; ++k) out[k] = acc[k];
}

// The inverse: W words holding 64 fields.
template <int W>
void UnpackBlock(const std::uint64_t* in, std::uint32_t* v) {
  constexpr std::uint64_t kMask = (std::uint64_t{1} << W) - 1;
#pragma GCC unroll 64
  for (int j = 0; j < 64; ++j) {
    const int bit = j * W, word = bit / 64, shift = 64 - bit % 64 - W;
    std::uint64_t x;
    if (shift >= 0) {
      x = in[word] >> shift;
    } else {
      x = (in[word] << -shift) | (in[word + 1] >> (64 + shift));
    }
    v[j] = static_cast<std::uint32_t>(x & kMask);
  }
}

// Slow path for the fields after the last whole block.
void PackTail(const std::uint32_t* v, std::size_t count, int width, std::uint64_t* out) {
  const std::uint64_t mask = (std::uint64_t{1} << width) - 1;
  const std::size_t words = (count * static_cast<std::size_t>(width) + 63) / 64;
  for (std::size_t k = 0; k < words; ++k) out[k] = 0;
  for (std::size_t j = 0; j < count; ++j) {
    const std::uint64_t x = v[j] & mask;
    const std::size_t bit = j * static_cast<std::size_t>(width), word = bit / 64;
    const int shift = 64 - static_cast<int>(bit % 64) - width;
    if (shift >= 0) {
      out[word] |= x << shift;
    } else {
      out[word] |= x >> -shift;
      out[word + 1] |= x << (64 + shift);
    }
  }
}

// The 64 bits starting at bit `pos` of data[0..size); bytes past the end read as zero.
std::uint64_t Load64(const std::uint8_t* data, std::size_t size, std::uint64_t pos) {
  const std::size_t byte = static_cast<std::size_t>(pos >> 3);
  const int offset = static_cast<int>(pos & 7);
  std::uint64_t hi;
  std::uint8_t next;
  if (byte + 9 <= size) {
    std::memcpy(&hi, data + byte, 8);
    next = data[byte + 8];
  } else {
    std::uint8_t buf[9] = {};
    for (std::size_t i = 0; i < 9 && byte + i < size; ++i) buf[i] = data[byte + i];
    std::memcpy(&hi, buf, 8);
    next = buf[8];
  }
  hi = __builtin_bswap64(hi);
  return offset ? (hi << offset) | (next >> (8 - offset)) : hi;
}

// AVX2 packing for W <= 8: eight fields make one 8W-bit chunk (field j shifted to bit
// (7 − j)·W by a variable 64-bit shift, the lanes or-ed together), and 64 fields make W words.
template <int W>
__attribute__((target("avx2"))) void PackBlocksAvx2(const std::uint32_t* v, std::size_t blocks,
                                                    std::uint64_t* out) {
  static_assert(W >= 1 && W <= 8, "8 fields per 64-bit chunk");
  const __m256i mask = _mm256_set1_epi64x((std::int64_t{1} << W) - 1);
  const __m256i shiftLo = _mm256_setr_epi64x(7 * W, 6 * W, 5 * W, 4 * W);
  const __m256i shiftHi = _mm256_setr_epi64x(3 * W, 2 * W, W, 0);
  constexpr int kChunk = 8 * W;
  for (std::size_t b = 0; b < blocks; ++b, v += 64) {
    std::uint64_t acc = 0;
    int fill = 0;  // pending bits in acc, left-aligned
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) {
      const __m256i lo =
          _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * c)));
      const __m256i hi =
          _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(v + 8 * c + 4)));
      const __m256i x = _mm256_or_si256(_mm256_sllv_epi64(_mm256_and_si256(lo, mask), shiftLo),
                                        _mm256_sllv_epi64(_mm256_and_si256(hi, mask), shiftHi));
      const __m128i y = _mm_or_si128(_mm256_castsi256_si128(x), _mm256_extracti128_si256(x, 1));
      const std::uint64_t chunk =
          static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_or_si128(y, _mm_unpackhi_epi64(y, y))));
      if (fill + kChunk <= 64) {  // constant pattern after unrolling
        acc |= kChunk == 64 ? chunk : chunk << (64 - fill - kChunk);
        fill += kChunk;
        if (fill == 64) {
          *out++ = acc;
          acc = 0;
          fill = 0;
        }
      } else {
        const int over = fill + kChunk - 64;
        *out++ = acc | (chunk >> over);
        acc = chunk << (64 - over);
        fill = over;
      }
    }
  }
}

template <int W>
void PackAll(const std::uint32_t* values, std::size_t count, std::uint64_t* words) {
  std::size_t j = 0;
  if constexpr (W <= 8) {
    if (UseAvx2()) {
      PackBlocksAvx2<W>(values, count / 64, words);
      j = count / 64 * 64;
      words += count / 64 * W;
    }
  }
  for (; j + 64 <= count; j += 64, words += W) PackBlock<W>(values + j, words);
  if (j < count) PackTail(values + j, count - j, W, words);
}

// The inverse for W <= 8: a chunk broadcast to eight lanes, each shifted down and masked.
template <int W>
__attribute__((target("avx2"))) void UnpackBlocksAvx2(const std::uint8_t* data, std::size_t size,
                                                      std::uint64_t pos, std::size_t blocks,
                                                      std::uint32_t* v) {
  const __m256i mask = _mm256_set1_epi64x((std::int64_t{1} << W) - 1);
  const __m256i shiftLo = _mm256_setr_epi64x(7 * W, 6 * W, 5 * W, 4 * W);
  const __m256i shiftHi = _mm256_setr_epi64x(3 * W, 2 * W, W, 0);
  const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  constexpr int kChunk = 8 * W;
  for (std::size_t b = 0; b < 8 * blocks; ++b, pos += kChunk, v += 8) {
    const __m256i chunk =
        _mm256_set1_epi64x(static_cast<std::int64_t>(Load64(data, size, pos) >> (64 - kChunk)));
    const __m256i lo = _mm256_and_si256(_mm256_srlv_epi64(chunk, shiftLo), mask);
    const __m256i hi = _mm256_and_si256(_mm256_srlv_epi64(chunk, shiftHi), mask);
    // The low halves of the eight 64-bit lanes, in order.
    const __m128i a = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(lo, pick));
    const __m128i c = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(hi, pick));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(v), a);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(v + 4), c);
  }
}

template <int W>
void UnpackAll(const std::uint8_t* data, std::size_t size, std::uint64_t pos, std::size_t count,
               std::uint32_t* values) {
  std::uint64_t in[W + 1];
  std::size_t j = 0;
  if constexpr (W <= 8) {
    if (UseAvx2()) {
      UnpackBlocksAvx2<W>(data, size, pos, count / 64, values);
      j = count / 64 * 64;
      pos += static_cast<std::uint64_t>(j) * W;
    }
  }
  for (; j + 64 <= count; j += 64, pos += 64 * W) {
    for (int k = 0; k < W; ++k) in[k] = Load64(data, size, pos + 64 * static_cast<unsigned>(k));
    UnpackBlock<W>(in, values + j);
  }
  for (; j < count; ++j, pos += W) {
    values[j] = static_cast<std::uint32_t>(Load64(data, size, pos) >> (64 - W));
  }
}

template <std::size_t... I>
void PackDispatch(int width, const std::uint32_t* v, std::size_t count, std::uint64_t* w,
                  std::index_sequence<I...>) {
  ((width == static_cast<int>(I) + 1 ? PackAll<static_cast<int>(I) + 1>(v, count, w) : void()),
   ...);
}

template <std::size_t... I>
void UnpackDispatch(int width, const std::uint8_t* data, std::size_t size, std::uint64_t pos,
                    std::size_t count, std::uint32_t* v, std::index_sequence<I...>) {
  ((width == static_cast<int>(I) + 1 ? UnpackAll<static_cast<int>(I) + 1>(data, size, pos, count, v)
                                     : void()),
   ...);
}

// 64 sign bits from 64 floats, MSB-first. Four lanes at a time: the lanes are reversed so the
// movemask nibble has the first value in its top bit.
std::uint64_t SignWord(const float* g, bool positive) {
  const __m128 zero = _mm_setzero_ps();
  std::uint64_t word = 0;
  for (int j = 0; j < 64; j += 4) {
    __m128 x = _mm_loadu_ps(g + j);
    x = _mm_shuffle_ps(x, x, _MM_SHUFFLE(0, 1, 2, 3));
    const __m128 bit = positive ? _mm_cmplt_ps(zero, x) : _mm_cmplt_ps(x, zero);
    word = (word << 4) | static_cast<unsigned>(_mm_movemask_ps(bit));
  }
  return word;
}

}  // namespace

void PackSignBits(const float* g, std::size_t n, bool positive, std::uint64_t* words) {
  std::size_t i = 0;
  for (; i + 64 <= n; i += 64) *words++ = SignWord(g + i, positive);
  if (i < n) {
    std::uint64_t word = 0;
    for (std::size_t j = 0; i + j < n; ++j) {
      const bool bit = positive ? g[i + j] > 0.0f : g[i + j] < 0.0f;
      word |= static_cast<std::uint64_t>(bit) << (63 - j);
    }
    *words = word;
  }
}

void UnpackBitsAsFloats(const std::uint8_t* data, std::size_t size, std::uint64_t bitPos,
                        std::size_t count, float ifOne, float ifZero, float* out) {
  // The four values of every nibble, so each nibble is one 16-byte copy.
  float table[16][4];
  for (int v = 0; v < 16; ++v) {
    for (int j = 0; j < 4; ++j) table[v][j] = (v >> (3 - j)) & 1 ? ifOne : ifZero;
  }
  std::size_t i = 0;
  for (; i + 64 <= count; i += 64, bitPos += 64) {
    const std::uint64_t word = Load64(data, size, bitPos);
    for (int k = 0; k < 16; ++k) {
      std::memcpy(out + i + 4 * k, table[(word >> (60 - 4 * k)) & 15], sizeof table[0]);
    }
  }
  if (i < count) {
    const std::uint64_t word = Load64(data, size, bitPos);
    for (std::size_t j = 0; i + j < count; ++j)
      out[i + j] = (word >> (63 - j)) & 1 ? ifOne : ifZero;
  }
}

void PackFixed(const std::uint32_t* values, std::size_t count, int width, std::uint64_t* words) {
  PackDispatch(width, values, count, words, std::make_index_sequence<kMaxPackWidth>{});
}

void UnpackFixed(const std::uint8_t* data, std::size_t size, std::uint64_t bitPos, int width,
                 std::size_t count, std::uint32_t* values) {
  UnpackDispatch(width, data, size, bitPos, count, values,
                 std::make_index_sequence<kMaxPackWidth>{});
}

}  // namespace gradquant
