#include "gradquant/random/rng.hpp"

#include <cmath>

#include "gradquant/random/philox.hpp"

namespace gradquant {

Rng::Rng(const StreamKey& key, Purpose purpose) {
  std::uint64_t h = Mix64(key.seed);
  h = Mix64(h ^ key.step);
  h = Mix64(h ^ ((std::uint64_t{key.worker} << 32) | key.layer));
  h = Mix64(h ^ static_cast<std::uint64_t>(purpose));
  key0_ = static_cast<std::uint32_t>(h);
  key1_ = static_cast<std::uint32_t>(h >> 32);
}

std::uint64_t Rng::Bits(std::uint64_t i) const {
  const std::uint64_t block = i >> 1;
  const auto out = Philox4x32({static_cast<std::uint32_t>(block),
                               static_cast<std::uint32_t>(block >> 32), 0u, 0u},
                              {key0_, key1_});
  const int half = static_cast<int>(i & 1) * 2;
  return (std::uint64_t{out[half]} << 32) | out[half + 1];
}

void Rng::Uniforms(std::uint64_t first, std::size_t count, double* out) const {
  std::size_t j = 0;
  if ((first & 1) && count > 0) out[j++] = Uniform(first);
  // Whole blocks: both halves of each Philox block at once.
  for (; j + 1 < count; j += 2) {
    const std::uint64_t block = (first + j) >> 1;
    const auto w = Philox4x32({static_cast<std::uint32_t>(block),
                               static_cast<std::uint32_t>(block >> 32), 0u, 0u},
                              {key0_, key1_});
    out[j] = static_cast<double>(((std::uint64_t{w[0]} << 32) | w[1]) >> 11) * 0x1p-53;
    out[j + 1] = static_cast<double>(((std::uint64_t{w[2]} << 32) | w[3]) >> 11) * 0x1p-53;
  }
  if (j < count) out[j] = Uniform(first + j);
}

double Rng::Normal(std::uint64_t i) const {
  // 1 - U is in (0, 1], so the logarithm is finite.
  const double u1 = 1.0 - Uniform(2 * i);
  const double u2 = Uniform(2 * i + 1);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace gradquant
