#pragma once
/**
 * @file rotated_quantizer.hpp
 * The engine `drive` and `eden` share (drive.hpp, eden.hpp; docs/quantizers.md#drive): rotate
 * the slab, give every rotated coordinate a b-bit code from a fixed codebook of levels, send one
 * float32 scale, and decode by scaling the levels and rotating back.
 *
 * With the rotation of random_rotation.hpp, y = H_d D (x, 0) (so Rx = y/√d), N = ‖x‖² and code
 * q_i with level ℓ(q_i) for i < d:
 *
 * \f[ P = \sum_i y_i\,ℓ(q_i) = \sqrt d\,⟨Rx, ℓ(q)⟩, \qquad C = \sum_i ℓ(q_i)^2, \f]
 * \f[ S_{unbiased} = \frac{‖x‖^2}{⟨Rx, ℓ(q)⟩} = \frac{N\sqrt d}{P}, \qquad
 *     S_{mse} = \frac{⟨Rx, ℓ(q)⟩}{‖ℓ(q)‖^2} = \frac{P}{\sqrt d\, C}, \f]
 * \f[ \hat x = R^{-1}(\tilde S\,ℓ(q)) = D H_d (m\,ℓ(q)),\ m = \tilde S/\sqrt d,
 *     \text{ truncated to } n. \f]
 *
 * S is computed in double, times the rotation's 2^e, and rounded to the nearest float32
 * \f$\tilde S\f$ (saturating at FLT_MAX); encoder and decoder both use \f$\tilde S\f$. The
 * unbiased scale makes \f$⟨\hat x_d, (x, 0)⟩ = ‖x‖^2\f$ for every rotation (up to float32
 * rounding): the estimate's projection on x is exact and its error is orthogonal to x; the MSE
 * scale is the least-squares S for the sent levels, \f$‖\hat x_d − x‖^2 = ‖x‖^2 −
 * ⟨Rx, ℓ⟩^2/‖ℓ‖^2\f$. \f$\tilde S = 0\f$ (an all-zero slab, or a scale below float32's range)
 * is sent with every code the zero code, and decodes to zeros.
 *
 * Bit layout: \f$\tilde S\f$ as float32 (32 bits), then the d codes q_0 .. q_{d−1} in b bits
 * each, in index order of the rotated vector; all d are sent, so a padded slab costs
 * 32 + b·d bits for n coordinates (stat `pad_frac` = (d − n)/n). The decoder rejects a
 * non-finite or negative scale, and a zero scale with any code other than the zero code.
 */
#include <cstddef>
#include <string>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** The scale rule. */
enum class RotatedScale {
  kUnbiased,  ///< S = ‖x‖²/⟨Rx, ℓ(q)⟩
  kMse,       ///< S = ⟨Rx, ℓ(q)⟩/‖ℓ(q)‖²
};

/** How codes are chosen; see the subclasses. */
struct RotatedCodebook {
  int bits = 1;               ///< b, bits per rotated coordinate
  std::vector<float> levels;  ///< ℓ(q) for q < 2^b
  /**
   * Code thresholds in units of ‖x‖ (empty: the sign code of drive, q = [y < 0]); else
   * q_i = #{j : y_i ≥ T_j} with T_j = float32(thresholds[j]·√N), increasing.
   */
  std::vector<double> thresholds;
  std::uint32_t zeroCode = 0;  ///< the code an all-zero slab sends (the code of y = 0)
  double distortion = 0;       ///< E(Z − ℓ(q(Z)))² for Z ~ N(0, 1) (the model's D_b)
};

/** Rotate, code, one scale; see the file comment. */
class RotatedQuantizer : public IndependentQuantizer {
 public:
  std::string Spec() const override { return spec_; }
  /** Adds `pad_frac`, (d − n)/n. */
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  /** @throws FormatError */
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  /**
   * Exact 0 for an all-zero slab or n = 1 (one coordinate is sent exactly, up to rounding);
   * else the Gaussian model of docs/quantizers.md#drive as `approx`.
   */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 protected:
  /** Reads `scale` (after whatever the subclass read for @p codebook). @throws SpecError */
  RotatedQuantizer(Params& params, RotatedCodebook codebook);

  RotatedScale Scale() const { return scale_; }

 private:
  // The transmitted scale for Σ-terms N, P, C of a d-length rotation with exponent e.
  float ScaleOf(double normSq, double p, double c, std::size_t d, int exponent) const;
  Message EncodeSigns(const float* y, std::size_t d, double normSq, int exponent) const;
  Message EncodeLevels(const float* y, std::size_t d, double normSq, int exponent) const;
  Message ZeroMessage(std::size_t d) const;

  RotatedCodebook book_;
  RotatedScale scale_;  // read from the params before spec_ is made from them
  std::string spec_;
};

}  // namespace gradquant
