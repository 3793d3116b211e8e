#include "gradquant/random/rng.hpp"

#include <cmath>

#include "gradquant/random/philox.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kLanes = 8;  // blocks computed in lock-step, so the compiler vectorises

// Words of blocks [block, block + kLanes) into out[4 * kLanes], in stream order. Integer
// arithmetic only: the AVX2 clone and the baseline give identical words.
__attribute__((target_clones("avx2", "default"))) void PhiloxLanes(std::uint64_t block,
                                                                   std::uint32_t key0,
                                                                   std::uint32_t key1,
                                                                   std::uint32_t* out) {
  std::uint32_t c0[kLanes], c1[kLanes], c2[kLanes], c3[kLanes];
  for (std::size_t j = 0; j < kLanes; ++j) {
    c0[j] = static_cast<std::uint32_t>(block + j);
    c1[j] = static_cast<std::uint32_t>((block + j) >> 32);
    c2[j] = 0;
    c3[j] = 0;
  }
  std::uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const std::uint64_t p0 = std::uint64_t{0xD2511F53u} * c0[j];
      const std::uint64_t p1 = std::uint64_t{0xCD9E8D57u} * c2[j];
      const std::uint32_t n0 = static_cast<std::uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
      const std::uint32_t n2 = static_cast<std::uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
      c1[j] = static_cast<std::uint32_t>(p1);
      c3[j] = static_cast<std::uint32_t>(p0);
      c0[j] = n0;
      c2[j] = n2;
    }
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  for (std::size_t j = 0; j < kLanes; ++j) {
    out[4 * j] = c0[j];
    out[4 * j + 1] = c1[j];
    out[4 * j + 2] = c2[j];
    out[4 * j + 3] = c3[j];
  }
}

}  // namespace

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
  const auto out = Philox4x32({static_cast<std::uint32_t>(block),
                               static_cast<std::uint32_t>(block >> 32), 0u, 0u},
                              {key0_, key1_});
  return out[i & 3];
}

void Rng::Uniforms(std::uint64_t first, std::size_t count, double* out) const {
  constexpr std::size_t kWords = 4 * kLanes;
  std::uint32_t words[kWords];
  std::size_t j = 0;
  // Head: single words up to a batch boundary.
  for (; j < count && ((first + j) % kWords) != 0; ++j) out[j] = Uniform(first + j);
  for (; j + kWords <= count; j += kWords) {
    PhiloxLanes((first + j) >> 2, key0_, key1_, words);
    for (std::size_t w = 0; w < kWords; ++w) out[j + w] = static_cast<double>(words[w]) * 0x1p-32;
  }
  for (; j < count; ++j) out[j] = Uniform(first + j);
}

double Rng::Normal(std::uint64_t i) const {
  // 1 - U is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - Uniform(2 * i);
  const double u2 = Uniform(2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace gradquant
