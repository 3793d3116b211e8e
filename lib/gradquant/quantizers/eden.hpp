#pragma once
/**
 * @file eden.hpp
 * `eden`: b bits per rotated coordinate, Lloyd–Max levels for the Gaussian, one scale.
 *
 * S. Vargaftik, R. Ben-Basat, A. Portnoy, G. Mendelson, Y. Ben-Itzhak, M. Mitzenmacher, "EDEN:
 * Communication-Efficient and Robust Distributed Mean Estimation for Federated Learning", ICML
 * 2022 (arXiv:2108.08842); docs/quantizers.md#eden. The engine is rotated_quantizer.hpp's.
 *
 * After the rotation of `drive` (y = H_d D (x, 0), Rx = y/√d), a rotated coordinate is close
 * to N(0, ‖x‖²/d), so the normalised z_i = y_i/‖x‖ is quantized with the deterministic
 * Lloyd–Max quantizer of N(0, 1) at b bits (lloyd_max.hpp, levels c_0 < .. < c_{2^b−1}):
 * \f$q_i = \#\{j : y_i ≥ T_j\}\f$ with \f$T_j\f$ = float32(t_j‖x‖), t_j the midpoints of
 * consecutive levels. The scale, rounded to float32, is
 * - `scale=unbiased` (default): \f$S = ‖x‖^2/⟨Rx, c_q⟩\f$ (the paper's),
 * - `scale=mse`: \f$S = ⟨Rx, c_q⟩/‖c_q‖^2\f$ (least squares),
 *
 * and the server outputs \f$\hat x = R^{-1}(\tilde S\,c_q)\f$ on the first n coordinates. With
 * b = 1 this is `drive` (levels ±√(2/π), the same estimate).
 *
 * Theory (Gaussian model, `approx`): with D_b = E(Z − Q_b(Z))² the Lloyd–Max distortion
 * (0.3634, 0.1175, 0.03455, 0.009501 for b = 1..4) and κ = (n − 1)/(d − 1) the share of an
 * isotropic error on the n kept coordinates, E‖x̂ − x‖²/‖x‖² ≈ κ·D_b/(1 − D_b) (unbiased: the
 * error is orthogonal to x) and D_b² + κ·D_b(1 − D_b) (mse). Neither is proven for the
 * Hadamard rotation; see drive.hpp.
 *
 * Bit layout: \f$\tilde S\f$ as float32 (32 bits), then the d codes q_i in b bits each,
 * i = 0..d−1 (code 0 the most negative level). Total 32 + b·d. Server: the mean of the decoded
 * vectors (float32 downlink). Not implemented: the paper's non-integer b (random subsets of
 * coordinates at ⌊b⌋ and ⌈b⌉ bits) and its sparsified b < 1.
 */
#include "gradquant/quantizers/rotated_quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** EDEN: Lloyd–Max codes of the rotated slab and one scale. */
class EdenQuantizer : public RotatedQuantizer {
 public:
  /** Reads `bits` and `scale`. @throws SpecError */
  explicit EdenQuantizer(Params& params);
};

}  // namespace gradquant
