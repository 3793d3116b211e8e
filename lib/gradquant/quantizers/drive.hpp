#pragma once
/**
 * @file drive.hpp
 * `drive`: one bit per rotated coordinate and one scale.
 *
 * S. Vargaftik, R. Ben-Basat, A. Portnoy, G. Mendelson, Y. Ben-Itzhak, M. Mitzenmacher,
 * "DRIVE: One-bit Distributed Mean Estimation", NeurIPS 2021 (arXiv:2105.08339);
 * docs/quantizers.md#drive. The engine is rotated_quantizer.hpp's with the sign code.
 *
 * The slab is padded with zeros to d = the next power of two ≥ n and rotated,
 * \f$Rx = H_d D x/\sqrt d\f$ (random_rotation.hpp; each worker its own signs D, from the shared
 * seed). The worker sends sign(Rx) (sign(0) = +1) and one scale, rounded to float32:
 * - `scale=unbiased` (default): \f$S = ‖x‖^2/‖Rx‖_1\f$, which makes the projection of the
 *   estimate on x exact for every rotation; unbiased over a uniformly random rotation;
 * - `scale=mse`: \f$S = ‖Rx‖_1/d\f$, the least-squares scale of the sign vector (biased).
 *
 * The server regenerates D and outputs \f$\hat x = R^{-1}(\tilde S\,\mathrm{sign}(Rx))\f$ on the
 * first n coordinates.
 *
 * Theory. For one rotation the error of the padded vector is deterministic:
 * \f$‖x‖^2(d‖x‖^2/‖Rx‖_1^2 − 1)\f$ (unbiased) and \f$‖x‖^2 − ‖Rx‖_1^2/d\f$ (mse). Over a uniform
 * random rotation the paper's vNMSE tends to π/2 − 1 (unbiased) and 1 − 2/π (mse) as d grows;
 * for the Hadamard rotation these limits are no bounds (an x with two equal entries has error
 * exactly ‖x‖² under the unbiased scale, for every D), so they are reported as `approx`
 * (rotated_quantizer.hpp, with the padding factor). For `scale=mse` a bound holds for every x:
 * \f[ E‖\hat x − x‖^2 ≤ ‖x‖^2 − ℓ^2,\quad ℓ = ‖x‖\max\Big(\tfrac{1}{\sqrt2},\
 *     \sqrt{2/π} − \tfrac{‖x‖_3^3}{‖x‖^3}\Big), \f]
 * since each (H_d D x)_i is distributed as the Rademacher sum ⟨σ, x⟩, so Jensen gives
 * \f$E‖Rx‖_1^2/d ≥ (E|⟨σ, x⟩|)^2\f$, and ℓ ≤ E|⟨σ, x⟩| by Szarek's Khintchine constant and by
 * the Wasserstein-1 bound Σ|a_i|³ of a Rademacher sum to the normal (Stein's method); the
 * truncation to n only removes error. ExpectedError reports it as `bound`.
 *
 * Bit layout: \f$\tilde S\f$ as float32 (32 bits), then d bits, bit i = [y_i < 0] for
 * y = H_d D (x, 0), i = 0..d−1. Total 32 + d (n + 32 for a power-of-two n). Server: the mean
 * of the decoded vectors (float32 downlink).
 */
#include "gradquant/quantizers/rotated_quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** DRIVE: the sign of the rotated slab and one scale. */
class DriveQuantizer : public RotatedQuantizer {
 public:
  /** Reads `scale`. @throws SpecError */
  explicit DriveQuantizer(Params& params);
  /** The model as `approx`; for `scale=mse` also the bound of the file comment. */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
};

}  // namespace gradquant
