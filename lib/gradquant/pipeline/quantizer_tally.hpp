#pragma once
/**
 * @file quantizer_tally.hpp
 * What `gradquant analyze` measures of one quantizer on one (layer, record) over R trials, as
 * sums that merge over records and layers (docs/quantizers.md#bits-accounting,
 * docs/quantizers.md#error-metrics), and the finished row.
 *
 * Definitions (W workers g_w, ḡ their mean, Q_r trial r's reconstruction, the best scalar fit
 * for sign outputs; sums run over the workers and the records of the row):
 * - bits: Message::bits of one worker's message for one record (summed over the row's layers),
 *   mean over workers, records and trials; bits_per_coord = bits / n; ratio = 32 n / bits.
 * - ideal bits: the `bits_entropy` stat (order-0 entropy of the symbols plus side bits) where
 *   the method reports it, else the exact bits.
 * - nmse = mean_r e_r with e_r = Σ||Q_r(g_w) − g_w||² / Σ||g_w||²; nmse_ci = 95 % half-width
 *   of that mean from the R values e_r (confidence.hpp).
 * - nmse_theory = Σ theory / Σ||g_w||² with theory = Theory::Value() (exact, else bound);
 *   theory_kind = exact if every slab has an exact value, bound if every slab has at least a
 *   bound, none otherwise. nmse_bound likewise from Theory::bound alone.
 * - bias = Σ||mean_r Q_r(g_w) − g_w||² / Σ||g_w||²; for an unbiased method its expectation is
 *   nmse / R.
 * - cosine = mean over workers and trials of cos(Q_r(g_w), g_w) (per-slab values weighted by n
 *   across layers).
 * - agg_nmse = Σ_r Σ||ĝ_r − ḡ||² / (R Σ||ḡ||²), ĝ the server's aggregate.
 * - method stats: mean over trials and records of each SlabStats key, weighted by n across
 *   layers.
 * - encode_gbps / decode_gbps: 4 n W bytes of float32 input per group over the wall time of
 *   EncodeGroup / DecodeGroup.
 *
 * Under error feedback (error_feedback.hpp) the quantizer's input x_w replaces g_w in nmse,
 * nmse_theory, nmse_bound, bias and cosine. Trial r has its own x_w, so nmse_theory and
 * nmse_bound are, like nmse, means over the trials of per-trial ratios (Σ theory_r / Σ||x_w||²),
 * and bias divides by the trial mean of Σ||x_w||². agg_nmse compares what the server applied
 * with the true ḡ. Two more numbers, measured whenever a feedback mode is given (none included):
 * - ef_residual = Σ FeedbackStep::residualSq / (R Σ||g_w||²): the memory entering each record;
 * - acc_nmse = ||A||² / Σ||ḡ||² at the row's last record, A = Σ_t (a_t − ḡ_t) the accumulated
 *   error over the layer's records so far (mean over trials; layers add up).
 */
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gradquant {

/** The finished numbers of one row (see the file comment); NaN where undefined. */
struct QuantizerRow {
  double bits, bitsPerCoord, bitsIdealPerCoord, ratio, downlinkBits;
  double nmse, nmseCi, nmseTheory, nmseOverTheory, nmseBound;
  std::string theoryKind;
  double bias, cosine, aggNmse, encodeGbps, decodeGbps;
  double efResidual, accNmse;           ///< NaN without a feedback mode
  std::map<std::string, double> stats;  ///< method stats by key (bits_entropy excluded)
};

/** Mergeable sums behind one row. */
struct QuantizerTally {
  std::uint64_t n = 0;  ///< coordinates per worker and record (summed over layers)
  std::uint64_t records = 0;
  std::uint64_t workers = 0;
  std::uint64_t trials = 0;
  double bits = 0;                  ///< Σ over trials, records, workers of message bits
  double idealBits = 0;             ///< the same with bits_entropy where reported
  double downlinkBits = 0;          ///< Σ over trials and records
  double normSq = 0;                ///< Σ over records and workers of ||x_w||² (trial mean)
  double gradientNormSq = 0;        ///< Σ over records and workers of ||g_w||²
  std::vector<double> trialNormSq;  ///< per trial: Σ over records, workers of ||x_w||²
  /** Under feedback, per trial: Σ of Theory::Value() and of Theory::bound (else empty). */
  std::vector<double> trialTheorySq, trialBoundSq;
  double aggNormSq = 0;              ///< Σ over records of ||ḡ||²
  std::vector<double> trialErrorSq;  ///< per trial: Σ over records, workers of the error
  double aggErrorSq = 0;             ///< Σ over trials and records
  double theorySq = 0;     ///< Σ of Theory::Value() (mean over trials for stateful methods)
  double boundSq = 0;      ///< Σ of Theory::bound
  std::string theoryKind;  ///< CombineTheoryKinds over every slab ("" before any)
  bool hasBound = true;
  double biasSq = 0;                       ///< Σ over records, workers of ||mean_r Q_r − g_w||²
  double cosineSum = 0, cosineWeight = 0;  ///< n-weighted
  std::map<std::string, std::pair<double, double>> stats;  ///< key -> (Σ n·value, Σ n)
  double encodeSeconds = 0, decodeSeconds = 0, inputBytes = 0;
  bool feedback = false;     ///< a feedback mode was given: the two numbers below are measured
  double residualSq = 0;     ///< Σ over trials and records of FeedbackStep::residualSq
  double accErrorSq = 0;     ///< Σ over trials of ||A||² at the latest record (layers add up)
  double accMeanNormSq = 0;  ///< Σ_t ||ḡ_t||² up to the latest record (layers add up)

  /**
   * Adds @p other (same quantizer and trial count). @p acrossLayers: other covers other
   * coordinates of the same records (n adds up); otherwise further records of the same layer.
   */
  void Merge(const QuantizerTally& other, bool acrossLayers);

  /** The finished numbers. */
  QuantizerRow Finish() const;
};

}  // namespace gradquant
