#pragma once
/**
 * @file hadamard.hpp
 * The fast Walsh–Hadamard transform, the rotation behind the `drive` and `eden` quantizers
 * (random_rotation.hpp adds the random signs and the padding).
 *
 * H_d for d = 2^k is the Sylvester Hadamard matrix, \f$(H_d)_{ij} = (−1)^{\mathrm{popcount}(i
 * \,\&\, j)}\f$: symmetric, with orthogonal ±1 rows, so \f$H_d H_d = d\,I\f$ and \f$H_d/\sqrt
 * d\f$ is orthonormal and its own inverse. Hadamard(x, d) computes y = H_d x *unnormalised*, in
 * float32, in k stages: stage j (stride s = 2^j, j = 0..k−1 in that order) replaces every pair
 * (x_i, x_{i+s}) with i & s = 0 by (x_i + x_{i+s}, x_i − x_{i+s}). That stage order and those two
 * roundings per pair define the result bit for bit; within a stage the pairs are independent,
 * so the blocked, vectorised and threaded schedules below all give the same bits.
 *
 * Schedule: a length d > 4096 is cut into rows × cols, rows = min(64, d/4096). Every block of
 * `cols` floats is transformed first (recursively, down to 4096-float leaves done in L1, the
 * strides 1, 2 and 4 by in-register shuffles on the AVX2 path); then the stages of strides
 * cols .. d/2 run as one sweep over tiles of 64 columns × `rows` rows, each copied into a
 * 16 KiB buffer (rows a power-of-two stride apart would share cache sets). d = 2^24 is 64
 * blocks of 2^18 floats (1 MiB, about L2) and one sweep, so about two passes over memory. Two
 * radix-2 stages are fused per sweep (radix 4) where possible: the same additions, half the
 * loads and stores.
 */
#include <cstddef>
#include <functional>

namespace gradquant {

/** The smallest power of two >= n (1 for n <= 1). */
std::size_t NextPowerOfTwo(std::size_t n);

/**
 * Fills x[first, first + count) right before the transform first reads it: lets a caller
 * produce the input (sign flips, unpacking) while it is in cache. Called once per block, from
 * the OpenMP threads when the transform runs on several; blocks are disjoint.
 */
using HadamardFill = std::function<void(std::size_t first, std::size_t count)>;

/** Floats per block the fill sees: min(d, 4096); a fill's `first` is a multiple of it. */
std::size_t HadamardBlock(std::size_t d);

/**
 * In place x ← H_d x (unnormalised; see the file comment), d a power of two. Runs on the
 * OpenMP threads when CanSplit(), with the same bits as on one.
 * @param fill called for every block before its first stage (may be null).
 */
void Hadamard(float* x, std::size_t d, const HadamardFill& fill = nullptr);

}  // namespace gradquant
