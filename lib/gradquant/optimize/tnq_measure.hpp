#pragma once
/**
 * @file tnq_measure.hpp
 * The measured error of the `tnq` quantizer at a given threshold on real slabs, by Monte Carlo
 * over the quantizer's own randomness. Each trial r runs the quantizer's kernel (TnqSymbols with
 * the levels TnqQuantizer::Levels builds for `tnq:alpha=<α>,bits=<B>`, the stream of seed + r)
 * and decodes the symbols to float32 exactly as TnqQuantizer::Decode does, so trial r equals
 * `gradquant compress -q tnq:alpha=<α>,bits=<B> --seed <seed + r>` on the same slabs.
 * Every worker uses the same absolute α and its own γ̂_w for the levels (what the spec does).
 *
 * The error splits into truncation and quantization: with t = clamp(g, −α, α),
 * ||Q − g||² = ||t − g||² + ||Q − t||² + 2⟨Q − t, t − g⟩, and the cross term vanishes in every
 * trial: t ≠ g only for a clipped value, which sits on an end level ±α and is never moved
 * (up to the float32 rounding of the decoded level). So trunc + quant = nmse.
 */
#include <armadillo>
#include <cstdint>
#include <vector>

#include "gradquant/core/layer_info.hpp"

namespace gradquant {

/** Where and how often to measure: one record of one layer. */
struct TnqTrials {
  const LayerInfo* layer = nullptr;
  std::uint64_t step = 0;    ///< the record's training step (part of the random key)
  std::uint64_t seed = 0;    ///< trial r uses seed + r
  std::uint32_t trials = 1;  ///< R
};

/** Errors normalised by Σ_w ||g_w||² (NaN if it is 0). */
struct TnqError {
  double nmse = 0;   ///< mean over trials of Σ_w ||Q(g_w) − g_w||²
  double trunc = 0;  ///< Σ_w ||t_w − g_w||² (deterministic)
  double quant = 0;  ///< mean over trials of Σ_w ||Q(g_w) − t_w||² (t_w the clipped slab)
};

/**
 * Measures `tnq:alpha=<alpha>,bits=<bits>` (NaN alpha: `alpha=auto`, each worker its own
 * α* = 3γ̂_w ln(1 + s/a)) on the workers' slabs @p slabs.
 * @throws SpecError if alpha or bits is outside the quantizer's ranges.
 */
TnqError MeasureTnq(const std::vector<arma::fvec>& slabs, const TnqTrials& where,
                    std::uint32_t bits, double alpha);

}  // namespace gradquant
