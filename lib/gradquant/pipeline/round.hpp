#pragma once
/**
 * @file round.hpp
 * One round of the protocol: the W workers' slabs of one (layer, record) item go through a
 * quantizer exactly as in a distributed step, and what the tools measure is computed on the way.
 * This is the only place that drives a quantizer; compress, decompress, analyze, optimize and
 * bench (and any other caller: bindings, MPI ranks) run their items through RunRound, so they
 * all see the same bits and the same numbers.
 *
 * The order, fixed because stateful methods depend on it:
 * 1. EncodeGroup (each worker's message; PowerSGD-like methods talk to the server here);
 * 2. DecodeGroup from the messages' bytes alone (plus the context and the layer's state);
 * 3. Diagnose with the true slabs (numbers neither side of a real system has);
 * 4. the theory of each worker's slab and the measured errors, at the state the record was
 *    encoded with;
 * 5. Observe: the layer's state moves on to the next record.
 * Method stats are summed in that order: encoder, Diagnose, decoder.
 *
 * With error feedback (error_feedback.hpp) the workers compress x_w (g_w plus their memory)
 * instead of g_w: steps 1–5 run on x_w (the theory and the per-worker errors are those of the
 * quantizer on what it compressed), then
 * 6. the workers' and the server's memories move on, and the aggregate becomes what the server
 *    applies; its error is measured against the true mean ḡ, and so is the accumulated error.
 */
#include <armadillo>
#include <cstdint>
#include <vector>

#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/** The context of item (layer, step) of a run with @p seed and @p workers workers. */
SlabContext ItemContext(const LayerInfo& layer, std::uint64_t seed, std::uint64_t step,
                        std::size_t workers, LayerState* state = nullptr);

/** The true slabs of one item and what every round on them compares against. */
struct ItemTruth {
  /** Takes the slabs (one per worker, equal sizes) and computes the norms and the mean. */
  explicit ItemTruth(std::vector<arma::fvec> slabs);

  std::vector<arma::fvec> slabs;  ///< g_w
  std::vector<double> normSq;     ///< ||g_w||², per worker
  arma::fvec mean;                ///< ḡ, summed in worker order (MeanOf)
  double meanNormSq = 0;          ///< ||ḡ||²

  /** Σ_w ||g_w||², summed in worker order. */
  double NormSq() const;
};

/** Which of the optional parts of a round to compute. */
struct RoundParts {
  bool stats = true;    ///< method stats (EncodeGroup with a stats map, Diagnose)
  bool theory = true;   ///< ExpectedError of each worker's slab
  bool errors = true;   ///< per-worker and aggregate errors against the truth
  bool observe = true;  ///< move the layer's state on (when the context has one)
};

/** What one round produced and measured. */
struct Round {
  std::vector<Message> messages;  ///< the W uplink messages
  /**
   * Reconstructions, aggregate, downlink bits, decoder stats. Under ef21, after step 6: worker
   * w's h_w and the aggregate H the server applies.
   */
  GroupResult decoded;
  SlabStats stats;             ///< encoder + Diagnose + decoder stats (RoundParts::stats)
  std::vector<Theory> theory;  ///< per worker (RoundParts::theory)
  /** Per worker FitErrorSq(Q(g_w), g_w) (RoundParts::errors): for sign outputs, best fit. */
  std::vector<double> errorSq;
  double aggErrorSq = 0;            ///< FitErrorSq(applied aggregate, ḡ) (RoundParts::errors)
  std::vector<double> inputNormSq;  ///< ||x_w||² of what worker w compressed (g_w without feedback)
  std::vector<arma::fvec> inputs;   ///< x_w under error feedback (empty otherwise: x_w = g_w)
  FeedbackStep feedback;            ///< step 6's numbers (zero without a FeedbackMemory)
  double encodeSeconds = 0, decodeSeconds = 0;        ///< wall time of steps 1 and 2
  double encodeCpuSeconds = 0, decodeCpuSeconds = 0;  ///< the calling thread's CPU time

  /** Σ_w of the messages' bits. */
  std::uint64_t Bits() const;
  /** Σ_w errorSq, in worker order. */
  double ErrorSq() const;
};

/**
 * Runs one round of @p quantizer on @p truth with context @p ctx (see the file comment), under
 * the error feedback of @p feedback when it is not null (the layer's memory, record by record).
 * @throws RangeError if a fresh message fails to decode or a reconstruction is not finite
 *         (finite input values too large for the quantizer's float32 fields); Error if the
 *         decoder returns slabs of the wrong number or size.
 */
Round RunRound(const Quantizer& quantizer, const ItemTruth& truth, const SlabContext& ctx,
               const RoundParts& parts = {}, FeedbackMemory* feedback = nullptr);

/**
 * The server's half of a round for messages read back from storage (decompress): DecodeGroup,
 * then Observe when the context has a state, then the server's side of @p feedback (ef21).
 * @throws FormatError if a stored message fails to decode.
 */
GroupResult DecodeRound(const Quantizer& quantizer, const std::vector<Message>& messages,
                        const SlabContext& ctx, FeedbackMemory* feedback = nullptr);

}  // namespace gradquant
