#include "gradquant/random/partial_shuffle.hpp"

#include <algorithm>
#include <cassert>

namespace gradquant {
namespace {

// The displaced positions: an open-addressing table (linear probing, power-of-two capacity at
// least twice the k entries it will ever hold), much faster than std::unordered_map here.
class MovedPositions {
 public:
  explicit MovedPositions(std::size_t k) {
    std::size_t capacity = 16;
    while (capacity < 2 * k) capacity *= 2;
    keys_.assign(capacity, kEmpty);
    values_.resize(capacity);
    mask_ = capacity - 1;
  }
  // The value at position p: p itself unless a swap moved another value there.
  std::size_t At(std::size_t p) const {
    for (std::size_t s = Slot(p);; s = (s + 1) & mask_) {
      if (keys_[s] == p) return values_[s];
      if (keys_[s] == kEmpty) return p;
    }
  }
  void Set(std::size_t p, std::size_t value) {
    std::size_t s = Slot(p);
    while (keys_[s] != kEmpty && keys_[s] != p) s = (s + 1) & mask_;
    keys_[s] = p;
    values_[s] = value;
  }

 private:
  static constexpr std::size_t kEmpty = ~std::size_t{0};
  std::size_t Slot(std::size_t p) const {
    return static_cast<std::size_t>((p * 0x9E3779B97F4A7C15ULL) >> 20) & mask_;
  }
  std::vector<std::size_t> keys_, values_;
  std::size_t mask_;
};

}  // namespace

std::vector<std::size_t> PartialShuffle(const Rng& rng, std::size_t n, std::size_t k) {
  assert(k <= n);
  // Position j is never read again after step j, so it is not stored.
  MovedPositions moved(k);
  std::vector<std::size_t> out(k);
  constexpr std::size_t kBatch = 1024;
  std::uint32_t words[kBatch];
  for (std::size_t j0 = 0; j0 < k; j0 += kBatch) {
    const std::size_t len = std::min(kBatch, k - j0);
    rng.Words(j0, len, words);
    for (std::size_t b = 0; b < len; ++b) {
      const std::size_t j = j0 + b;
      const std::size_t span = n - j;
      // U < 1 keeps the product below span in exact arithmetic; the min guards the rounding.
      const auto offset =
          static_cast<std::size_t>(UniformFromWord(words[b]) * static_cast<double>(span));
      const std::size_t t = j + std::min(offset, span - 1);
      const std::size_t atJ = moved.At(j);
      out[j] = moved.At(t);
      moved.Set(t, atJ);
    }
  }
  return out;
}

}  // namespace gradquant
