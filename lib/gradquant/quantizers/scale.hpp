#pragma once
/**
 * @file scale.hpp
 * Rounding of transmitted scales (docs/quantizers.md#rounding, lock-step rounding): the float32
 * value sent on the wire is chosen so that the quantizer's index can never leave its alphabet.
 */
#include <cstddef>
#include <utility>
#include <vector>

namespace gradquant {

/** The smallest float f >= x (x >= 0, finite). */
float RoundUpToFloat(double x);

/**
 * DQSG's step: float32(m/s), nudged up one ulp if (double)step * s < m, so |g_i/step| <= s for
 * every |g_i| <= m. Returns 0 for m == 0.
 */
float StepForMax(double m, double s);

/** Half-open index ranges [begin, end) of consecutive buckets; bucket = 0 means one bucket. */
std::vector<std::pair<std::size_t, std::size_t>> Buckets(std::size_t n, std::size_t bucket);

}  // namespace gradquant
