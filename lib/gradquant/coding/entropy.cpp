#include "gradquant/coding/entropy.hpp"

#include <cmath>
#include <unordered_map>
#include <vector>

namespace gradquant {

double EmpiricalEntropyBits(const std::uint32_t* symbols, std::size_t n, std::uint32_t alphabet) {
  if (n == 0) return 0.0;
  double bits = 0.0;
  auto add = [&](double count) {
    if (count > 0) bits -= count * std::log2(count / static_cast<double>(n));
  };
  if (alphabet <= (1u << 20)) {
    std::vector<std::uint64_t> counts(alphabet, 0);
    for (std::size_t i = 0; i < n; ++i) ++counts[symbols[i]];
    for (auto c : counts) add(static_cast<double>(c));
  } else {
    std::unordered_map<std::uint32_t, std::uint64_t> counts;
    for (std::size_t i = 0; i < n; ++i) ++counts[symbols[i]];
    for (const auto& [symbol, c] : counts) add(static_cast<double>(c));
  }
  return bits;
}

}  // namespace gradquant
