#pragma once
/**
 * @file slab_sums.hpp
 * Fast reductions that return exactly what the plain loops return.
 *
 * A transmitted scale computed from a double sum in index order (QSGD's ||v||_2, TNQ's mean |g|,
 * scaled sign's ||g||_1/D) must not change when the loop is made fast: the sum is part of the
 * wire format. The in-order sum is latency-bound (one dependent add per coordinate), so these
 * functions sum in any order (vectorised, in parallel chunks) and *certify* the result: for
 * non-negative terms every summation order lies within γ_{n-1}·S of the exact sum S (Higham,
 * Accuracy and Stability of Numerical Algorithms, §4.2), so the in-order sum lies in
 * [fast − e, fast + e] with e = 2.01·n·2^-53·fast. If both ends of that interval round to the same
 * float scale, that is the scale; otherwise (rarely, about n·2^-29 of the time) the in-order loop
 * runs. Maxima are exact in any order and need no certificate.
 */
#include <cstddef>

namespace gradquant {

/**
 * Σ_i g_i² in double in one fixed order, fast: chunks of 2^20 coordinates (on the threads),
 * each summed in eight lanes (lane j takes g_{8k+j} in index order; the tail past the last
 * multiple of 8 is summed first, then lanes 0..7 are added to it), the chunks added in order.
 * The same bits on every code path and thread count: for sums whose order is part of a wire
 * format (drive and eden's scales), where the in-order loop would be too slow.
 */
double SumSquaresFixedOrder(const float* g, std::size_t n);

/** Σ_i |g_i| in double, in the order of SumSquaresFixedOrder. */
double SumAbsFixedOrder(const float* g, std::size_t n);

/** max_i |g_i| (0 for n = 0; NaN entries are skipped, as std::max(m, NaN) = m does). */
float MaxAbs(const float* g, std::size_t n);

/** The plain loop: Σ_i (double)g_i², in index order. */
double SumSquaresInOrder(const float* g, std::size_t n);

/** The plain loop: Σ_i |(double)g_i|, in index order. */
double SumAbsInOrder(const float* g, std::size_t n);

/** RoundUpToFloat(sqrt(SumSquaresInOrder(g, n))), computed fast (see the file comment). */
float RoundedUpNorm2(const float* g, std::size_t n);

/** (float)(SumAbsInOrder(g, n) / n), 0 for n = 0, computed fast (see the file comment). */
float MeanAbsToFloat(const float* g, std::size_t n);

}  // namespace gradquant
