#pragma once
/**
 * @file lloyd_max.hpp
 * The Lloyd–Max quantizer of the standard normal distribution: EDEN's codebook for rotated
 * coordinates (the `eden` quantizer).
 *
 * S. P. Lloyd, "Least squares quantization in PCM", IEEE Trans. Inf. Theory 28(2), 1982;
 * J. Max, "Quantizing for minimum distortion", IRE Trans. Inf. Theory 6(1), 1960.
 *
 * For K = 2^b levels the quantizer minimising E(Z − Q(Z))², Z ~ N(0, 1), satisfies both
 * Lloyd–Max conditions: every boundary is the midpoint of its two centroids,
 * \f$t_j = (c_j + c_{j+1})/2\f$, and every centroid is the mean of its cell,
 * \f$c_j = (φ(t_{j−1}) − φ(t_j))/(Φ(t_j) − Φ(t_{j−1}))\f$ (t_0 = −∞, t_K = ∞). The levels are
 * symmetric, so for even K the middle boundary is 0. They are computed once per process, in
 * double: Lloyd's iteration from equally spaced boundaries, then Newton's method on the
 * boundaries (a tridiagonal system) to machine precision; the centroids are then rounded to
 * float32, and those float32 values are the codebook. The libm of another platform would have
 * to move a centroid across a float32 rounding boundary to change it (about 10⁻⁸ of a chance
 * per value); tests pin the values.
 */
#include <cstddef>
#include <vector>

namespace gradquant {

/** Highest number of bits per coordinate a codebook is made for. */
constexpr int kMaxLloydMaxBits = 8;

/** The Lloyd–Max codebook of N(0, 1) at some number of bits. */
struct LloydMaxCodebook {
  std::vector<float> levels;       ///< the K = 2^b centroids, increasing, symmetric
  std::vector<double> boundaries;  ///< the K − 1 midpoints of consecutive float32 levels
  double distortion = 0;           ///< E(Z − Q(Z))² for Z ~ N(0, 1) with these levels
};

/**
 * The codebook for @p bits in [1, kMaxLloydMaxBits] (computed on first use, then shared;
 * thread-safe). bits = 1 gives ±√(2/π) and distortion 1 − 2/π.
 */
const LloydMaxCodebook& GaussianCodebook(int bits);

}  // namespace gradquant
