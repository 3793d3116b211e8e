#include "gradquant/coding/entropy.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

namespace gradquant {
namespace {

constexpr std::uint32_t kDenseAlphabet = 1u << 20;
constexpr std::uint32_t kSmallAlphabet = 256;  // counted in stack tables, per call

// -c log2(c / n) summed over counts in symbol order.
double FromCounts(const std::uint64_t* counts, std::size_t size, std::size_t n) {
  double bits = 0.0;
  for (std::size_t a = 0; a < size; ++a) {
    const double count = static_cast<double>(counts[a]);
    if (count > 0) bits -= count * std::log2(count / static_cast<double>(n));
  }
  return bits;
}

}  // namespace

double EmpiricalEntropyBits(const std::uint32_t* symbols, std::size_t n, std::uint32_t alphabet) {
  if (n == 0) return 0.0;
  if (alphabet <= kDenseAlphabet) {
    std::vector<std::uint64_t> counts(alphabet, 0);
    for (std::size_t i = 0; i < n; ++i) ++counts[symbols[i]];
    return FromCounts(counts.data(), counts.size(), n);
  }
  double bits = 0.0;
  std::unordered_map<std::uint32_t, std::uint64_t> counts;
  for (std::size_t i = 0; i < n; ++i) ++counts[symbols[i]];
  for (const auto& [symbol, c] : counts) {
    const double count = static_cast<double>(c);
    if (count > 0) bits -= count * std::log2(count / static_cast<double>(n));
  }
  return bits;
}

SymbolCounts::SymbolCounts(std::uint32_t alphabet, std::size_t n) : alphabet_(alphabet), n_(n) {
  if (n == 0) return;  // nothing to count (also: the caller wants no stats)
  if (alphabet <= kDenseAlphabet) {
    // Thread numbers of this team, or of a team a plan may start below it.
    const int threads = std::max(omp_get_max_threads(), omp_get_num_threads());
    counts_.assign(static_cast<std::size_t>(threads), std::vector<std::uint64_t>(alphabet, 0));
  } else {
    symbols_.assign(n, 0);
  }
}

void SymbolCounts::Add(std::size_t first, const std::uint32_t* symbols, std::size_t count) {
  if (counts_.empty()) {
    for (std::size_t i = 0; i < count; ++i) symbols_[first + i] = symbols[i];
    return;
  }
  std::uint64_t* table = counts_[static_cast<std::size_t>(omp_get_thread_num())].data();
  if (alphabet_ <= kSmallAlphabet && count >= 1024 && count < (std::size_t{1} << 31)) {
    // Four interleaved tables, so runs of one symbol do not serialise on one counter.
    std::uint32_t local[4][kSmallAlphabet] = {};
    std::size_t i = 0;
    for (; i + 4 <= count; i += 4) {
      ++local[0][symbols[i]];
      ++local[1][symbols[i + 1]];
      ++local[2][symbols[i + 2]];
      ++local[3][symbols[i + 3]];
    }
    for (; i < count; ++i) ++local[0][symbols[i]];
    for (std::uint32_t a = 0; a < alphabet_; ++a) {
      table[a] += std::uint64_t{local[0][a]} + local[1][a] + local[2][a] + local[3][a];
    }
    return;
  }
  for (std::size_t i = 0; i < count; ++i) ++table[symbols[i]];
}

std::uint64_t SymbolCounts::Count(std::uint32_t symbol) const {
  std::uint64_t count = 0;
  for (const auto& table : counts_) count += table.at(symbol);
  return count;
}

double SymbolCounts::EntropyBits() const {
  if (n_ == 0) return 0.0;
  if (counts_.empty()) return EmpiricalEntropyBits(symbols_.data(), n_, alphabet_);
  std::vector<std::uint64_t> total(alphabet_, 0);
  for (const auto& table : counts_) {
    for (std::size_t a = 0; a < total.size(); ++a) total[a] += table[a];
  }
  return FromCounts(total.data(), total.size(), n_);
}

}  // namespace gradquant
