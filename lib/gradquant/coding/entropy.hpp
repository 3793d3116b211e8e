#pragma once
/** @file entropy.hpp Order-0 empirical entropy, the "ideal" size of a symbol stream. */
#include <cstddef>
#include <cstdint>
#include <vector>

namespace gradquant {

/**
 * -sum_a c_a log2(c_a / n) over the symbol counts c_a: the bits an ideal entropy coder would
 * spend on these n symbols (alphabet {0..alphabet-1}), without the cost of describing the counts.
 */
double EmpiricalEntropyBits(const std::uint32_t* symbols, std::size_t n, std::uint32_t alphabet);

/**
 * EmpiricalEntropyBits of a stream whose symbols arrive in pieces, from several OpenMP threads
 * (one count table per thread; counts are integers, so the result does not depend on how the
 * pieces were shared out). Alphabets above 2^20 keep the symbols themselves and defer to
 * EmpiricalEntropyBits, so the value is the same to the last bit in every case.
 */
class SymbolCounts {
 public:
  /** Counts for @p n symbols of alphabet {0..alphabet-1} (n = 0: a counter that is never used). */
  SymbolCounts(std::uint32_t alphabet, std::size_t n);

  /** Adds symbols[0..count) at stream positions first.. (thread-safe for OpenMP threads). */
  void Add(std::size_t first, const std::uint32_t* symbols, std::size_t count);

  /** How many times @p symbol was added (alphabets up to 2^20). */
  std::uint64_t Count(std::uint32_t symbol) const;

  /** EmpiricalEntropyBits of the n symbols added. */
  double EntropyBits() const;

 private:
  std::uint32_t alphabet_;
  std::size_t n_;
  std::vector<std::vector<std::uint64_t>> counts_;  // per thread, dense alphabets
  std::vector<std::uint32_t> symbols_;              // large alphabets
};

}  // namespace gradquant
