#pragma once
/** @file entropy.hpp Order-0 empirical entropy, the "ideal" size of a symbol stream. */
#include <cstddef>
#include <cstdint>

namespace gradquant {

/**
 * -sum_a c_a log2(c_a / n) over the symbol counts c_a: the bits an ideal entropy coder would
 * spend on these n symbols (alphabet {0..alphabet-1}), without the cost of describing the counts.
 */
double EmpiricalEntropyBits(const std::uint32_t* symbols, std::size_t n, std::uint32_t alphabet);

}  // namespace gradquant
