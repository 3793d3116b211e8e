#pragma once
/**
 * @file cpu.hpp
 * Run-time choice of the AVX2 code paths (Philox batches, bit packing, quantizer loops). Each
 * such path gives exactly the bits of its portable twin; tests force the portable path to
 * compare the two on a machine that has AVX2.
 */

namespace gradquant {

/** True if the CPU has AVX2 and the portable paths are not forced. */
bool UseAvx2();

/** For tests: force the portable paths (true) or let the CPU decide (false). */
void ForcePortablePaths(bool portable);

}  // namespace gradquant
