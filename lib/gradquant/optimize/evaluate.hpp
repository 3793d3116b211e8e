#pragma once
/**
 * @file evaluate.hpp
 * Runs one quantizer over a SlabSet the way `compress` does (EncodeGroup, DecodeGroup from the
 * bytes, Diagnose, then Observe, record by record for each layer's state) without writing
 * anything, and sums exact bits and errors. One pass reads every item once and holds at most
 * one item per thread (its slabs, messages and reconstructions). Error conventions follow
 * docs/quantizers.md#error-metrics and `compress`: ||Q(g_w) − g_w||² per worker and ||aggregate −
 * mean_w g_w||² per record; for sign outputs (Quantizer::SignOutput) the error of the best scalar
 * fit c*·o. Under error feedback the per-worker error is that of the quantizer on what it
 * compressed, the aggregate error that of what the server applied (round.hpp).
 */
#include <cstdint>
#include <optional>

#include "gradquant/optimize/slab_set.hpp"
#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/** Exact rate and measured distortion of one quantizer on a SlabSet. */
struct RateDistortion {
  std::uint64_t bits = 0;                ///< uplink Message::bits over every slab
  std::uint64_t downlinkBits = 0;        ///< the server's replies
  double coords = 0;                     ///< coordinates sent: Σ_layers n × records × workers
  double errorSq = 0, normSq = 0;        ///< Σ ||Q(g_w) − g_w||², Σ ||g_w||²
  double aggErrorSq = 0, aggNormSq = 0;  ///< Σ ||aggregate − ḡ||², Σ ||ḡ||²
  /** The `overload_pred` stat (NDQSG) averaged over records weighted by n; NaN if none. */
  double overloadPred = 0;
  /** ||A||² after each layer's last record, summed over layers, and Σ||ḡ||² (with feedback). */
  double accErrorSq = 0, accMeanNormSq = 0;

  double BitsPerCoord() const { return coords > 0 ? static_cast<double>(bits) / coords : 0.0; }
  double Nmse() const;
  double AggNmse() const;
  /** accErrorSq / accMeanNormSq: NaN unless evaluated with a feedback mode. */
  double AccNmse() const;
};

/**
 * Encodes and decodes every slab of @p set with @p quantizer (seed @p seed) under the error
 * feedback @p feedback (unset: none, accumulated error not measured), reading each (layer,
 * record) item when its turn comes. Items run in parallel for stateless methods, layers for
 * stateful ones and under feedback (records in order); the sums do not depend on the thread
 * count.
 * @throws FormatError if a message fails to decode (a bug in the quantizer); what
 *         SlabSet::Read throws (IoError for a dump); SpecError from CheckFeedback.
 */
RateDistortion Evaluate(const SlabSet& set, const Quantizer& quantizer, std::uint64_t seed,
                        std::optional<Feedback> feedback = std::nullopt);

}  // namespace gradquant
