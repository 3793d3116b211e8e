#include "gradquant/random/rng.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gradquant/core/cpu.hpp"
#include "gradquant/random/philox.hpp"

namespace gradquant {
namespace {

constexpr std::uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
constexpr std::size_t kBatchBlocks = 16;  // Philox blocks per batch call
constexpr std::size_t kBatchWords = 4 * kBatchBlocks;

// Portable batch: blocks [block, block + kBatchBlocks) in lock-step, words in stream order.
void PhiloxBatchPortable(std::uint64_t block, std::uint32_t key0, std::uint32_t key1,
                         std::uint32_t* out) {
  constexpr std::size_t n = kBatchBlocks;
  std::uint32_t c0[n], c1[n], c2[n], c3[n];
  for (std::size_t j = 0; j < n; ++j) {
    c0[j] = static_cast<std::uint32_t>(block + j);
    c1[j] = static_cast<std::uint32_t>((block + j) >> 32);
    c2[j] = 0;
    c3[j] = 0;
  }
  std::uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t p0 = std::uint64_t{kMul0} * c0[j];
      const std::uint64_t p1 = std::uint64_t{kMul1} * c2[j];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = static_cast<std::uint32_t>(p1);
      c3[j] = static_cast<std::uint32_t>(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  for (std::size_t j = 0; j < n; ++j) {
    out[4 * j] = c0[j];
    out[4 * j + 1] = c1[j];
    out[4 * j + 2] = c2[j];
    out[4 * j + 3] = c3[j];
  }
}

// AVX2 batch, the same words. Each 64-bit lane holds one block's 32-bit counter word in its
// low half; _mm256_mul_epu32 reads only low halves, so the high halves may hold leftovers
// until the words are stored.
__attribute__((target("avx2"))) void PhiloxBatchAvx2(std::uint64_t block, std::uint32_t key0,
                                                     std::uint32_t key1, std::uint32_t* out) {
  constexpr int kSets = kBatchBlocks / 4;
  const __m256i mul0 = _mm256_set1_epi64x(kMul0), mul1 = _mm256_set1_epi64x(kMul1);
  __m256i c0[kSets], c1[kSets], c2[kSets], c3[kSets];
  const __m256i base = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(block)),
                                        _mm256_setr_epi64x(0, 1, 2, 3));
  for (int s = 0; s < kSets; ++s) {
    const __m256i ctr = _mm256_add_epi64(base, _mm256_set1_epi64x(4 * s));
    c0[s] = ctr;                         // low half: the counter's low word
    c1[s] = _mm256_srli_epi64(ctr, 32);  // its high word
    c2[s] = _mm256_setzero_si256();
    c3[s] = _mm256_setzero_si256();
  }
  std::uint32_t k0 = key0, k1 = key1;
#pragma GCC unroll 10  // unrolled rounds: about 1.6x the words per second of the rolled loop
  for (int round = 0; round < 10; ++round) {
    const __m256i vk0 = _mm256_set1_epi64x(k0), vk1 = _mm256_set1_epi64x(k1);
    for (int s = 0; s < kSets; ++s) {
      const __m256i p0 = _mm256_mul_epu32(c0[s], mul0);
      const __m256i p1 = _mm256_mul_epu32(c2[s], mul1);
      const __m256i n0 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p1, 32), c1[s]), vk0);
      const __m256i n2 = _mm256_xor_si256(_mm256_xor_si256(_mm256_srli_epi64(p0, 32), c3[s]), vk1);
      c1[s] = p1;  // low half = the product's low word
      c3[s] = p0;
      c0[s] = n0;
      c2[s] = n2;
    }
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
  for (int s = 0; s < kSets; ++s) {
    // a_j = (c0_j, c1_j), b_j = (c2_j, c3_j) as 64-bit pairs, then a_j b_j per block.
    const __m256i a = _mm256_blend_epi32(c0[s], _mm256_slli_epi64(c1[s], 32), 0xAA);
    const __m256i b = _mm256_blend_epi32(c2[s], _mm256_slli_epi64(c3[s], 32), 0xAA);
    const __m256i lo = _mm256_unpacklo_epi64(a, b);  // a0 b0 | a2 b2
    const __m256i hi = _mm256_unpackhi_epi64(a, b);  // a1 b1 | a3 b3
    auto* dst = reinterpret_cast<__m256i*>(out + 16 * s);
    _mm256_storeu_si256(dst, _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(dst + 1, _mm256_permute2x128_si256(lo, hi, 0x31));
  }
}

// `batches` consecutive batches from block `block` on: one call for a whole request, so the
// vector loop is not entered through a pointer every 64 words.
__attribute__((target("avx2"))) void PhiloxBatchesAvx2(std::uint64_t block, std::uint32_t key0,
                                                       std::uint32_t key1, std::uint32_t* out,
                                                       std::size_t batches) {
  for (std::size_t b = 0; b < batches; ++b) {
    PhiloxBatchAvx2(block + b * kBatchBlocks, key0, key1, out + b * kBatchWords);
  }
}

void PhiloxBatchesPortable(std::uint64_t block, std::uint32_t key0, std::uint32_t key1,
                           std::uint32_t* out, std::size_t batches) {
  for (std::size_t b = 0; b < batches; ++b) {
    PhiloxBatchPortable(block + b * kBatchBlocks, key0, key1, out + b * kBatchWords);
  }
}

using BatchFn = void (*)(std::uint64_t, std::uint32_t, std::uint32_t, std::uint32_t*);
using BatchesFn = void (*)(std::uint64_t, std::uint32_t, std::uint32_t, std::uint32_t*,
                           std::size_t);

BatchFn Batch() { return UseAvx2() ? PhiloxBatchAvx2 : PhiloxBatchPortable; }
BatchesFn Batches() { return UseAvx2() ? PhiloxBatchesAvx2 : PhiloxBatchesPortable; }

}  // namespace

namespace detail {

bool PhiloxBatchesAgree(std::uint64_t block, std::uint32_t key0, std::uint32_t key1) {
  std::uint32_t portable[kBatchWords], fast[kBatchWords];
  PhiloxBatchPortable(block, key0, key1, portable);
  Batch()(block, key0, key1, fast);
  return std::memcmp(portable, fast, sizeof portable) == 0;
}

}  // namespace detail

Rng::Rng(const StreamKey& key, Purpose purpose) {
  std::uint64_t h = Mix64(key.seed);
  h = Mix64(h ^ key.step);
  h = Mix64(h ^ ((std::uint64_t{key.worker} << 32) | key.layer));
  h = Mix64(h ^ static_cast<std::uint64_t>(purpose));
  key0_ = static_cast<std::uint32_t>(h);
  key1_ = static_cast<std::uint32_t>(h >> 32);
}

std::uint32_t Rng::Word(std::uint64_t i) const {
  const std::uint64_t block = i >> 2;
  const auto out = Philox4x32(
      {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0u, 0u},
      {key0_, key1_});
  return out[i & 3];
}

void Rng::Words(std::uint64_t first, std::size_t count, std::uint32_t* out) const {
  std::size_t j = 0;
  for (; j < count && ((first + j) & 3) != 0; ++j) out[j] = Word(first + j);  // to a block
  const std::size_t batches = (count - j) / kBatchWords;
  Batches()((first + j) >> 2, key0_, key1_, out + j, batches);
  j += batches * kBatchWords;
  for (; j + 4 <= count; j += 4) {
    const std::uint64_t block = (first + j) >> 2;
    const auto words = Philox4x32(
        {static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32), 0u, 0u},
        {key0_, key1_});
    std::memcpy(out + j, words.data(), sizeof words);
  }
  for (; j < count; ++j) out[j] = Word(first + j);
}

void Rng::Uniforms(std::uint64_t first, std::size_t count, double* out) const {
  constexpr std::size_t kStep = 1024;
  std::uint32_t words[kStep];
  for (std::size_t j = 0; j < count; j += kStep) {
    const std::size_t len = std::min(kStep, count - j);
    Words(first + j, len, words);
    for (std::size_t w = 0; w < len; ++w) out[j + w] = UniformFromWord(words[w]);
  }
}

double Rng::Normal(std::uint64_t i) const {
  // 1 - U is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - Uniform(2 * i);
  const double u2 = Uniform(2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace gradquant
