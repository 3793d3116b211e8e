#pragma once
/**
 * @file random_rotation.hpp
 * The randomized Hadamard rotation of `drive` and `eden` (docs/quantizers.md#drive):
 * \f$R = H_d D / \sqrt d\f$ on the slab padded with zeros to d = the next power of two ≥ n.
 *
 * D = diag(σ_0, .., σ_{d−1}) holds random signs from the rotation stream of the slab's key
 * (Purpose::kRotation: seed, step, worker, layer), so every worker has its own rotation, which
 * the server regenerates: σ_i = −1 when bit 31 − (i mod 32) of word ⌊i/32⌋ is set, else +1.
 * H_d is hadamard.hpp's transform. The code works with the unnormalised y = H_d D x (so
 * Rx = y/√d, and each y_i has variance ‖x‖² over the signs), in float32.
 *
 * Range: |y_i| ≤ Σ|x_j| ≤ √n‖x‖ cannot overflow float32 while √n‖x‖ < 2^126, and tiny slabs
 * lose precision to subnormals; outside ‖x‖ ∈ [2^−60, 2^126/√n] the slab is first multiplied
 * by 2^−e (exact), e = ilogb(‖x‖), and callers undo the power of two in their scale. A
 * non-finite input (never past the dump's NaN and Inf policy) is treated as 0.
 */
#include <cstddef>
#include <cstdint>
#include <vector>

#include "gradquant/quantizers/hadamard.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant {

/** What Forward() computed besides y. */
struct RotatedSlab {
  /** Σ x_i² in double (SumSquaresFixedOrder, slab_sums.hpp), times 2^−2·exponent. */
  double normSq = 0;
  int exponent = 0;  ///< the input was multiplied by 2^−exponent (0 unless out of range)
};

/** The rotation of one slab; see the file comment. */
class RandomRotation {
 public:
  /** The rotation of an @p n-coordinate slab with key @p key (its signs are drawn here). */
  RandomRotation(std::size_t n, const StreamKey& key);

  std::size_t N() const { return n_; }
  /** The padded length d = NextPowerOfTwo(n) (0 for n = 0). */
  std::size_t D() const { return d_; }

  /** y[0, d) = H_d D (2^−e x, 0): the rotated slab, unnormalised. */
  RotatedSlab Forward(const float* x, float* y) const;

  /**
   * The decoder's way back: y[0, d) is produced block by block by @p fill (the same contract
   * as HadamardFill), then out[i] = σ_i·m·(H_d y)_i rounded once to float32 and clamped to
   * ±FLT_MAX, for i < n: D H_d (m·y), which is R⁻¹(S·y) for m = S/√d.
   */
  void Inverse(float* y, double m, float* out, const HadamardFill& fill) const;

 private:
  std::size_t n_, d_;
  std::vector<std::uint32_t> signs_;  // ⌈d/32⌉ words, bit 1 = σ_i = −1
};

}  // namespace gradquant
