#pragma once
/**
 * @file compress_job.hpp
 * `compress` and `decompress` as library calls: stream a dump one (layer, record) at a time
 * through a quantizer, store the messages and the reconstruction, and sum what the report
 * needs. No printing; progress goes through a callback.
 */
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "gradquant/core/progress.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/pipeline/selection.hpp"
#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/** Sums over the records and workers of one layer. */
struct LayerTotals {
  std::string name;
  std::uint64_t n = 0;
  std::uint64_t slabs = 0;  ///< worker messages counted (records × workers)
  std::uint64_t records = 0;
  std::uint64_t bits = 0;          ///< uplink bits of all messages
  std::uint64_t downlinkBits = 0;  ///< server reply bits over all records
  double errorSq = 0;              ///< sum ||Q(x_w) - x_w||^2, x_w what worker w compressed
  double normSq = 0;               ///< sum ||x_w||^2 (x_w = g_w without error feedback)
  double gradientNormSq = 0;       ///< sum ||g_w||^2
  double theorySq = 0;             ///< sum of the theory value (exact, else bound)
  std::string theoryKind;          ///< exact | bound | lower_bound | none ("" before any slab)
  double aggErrorSq = 0;           ///< sum ||aggregate - mean_w g_w||^2
  double aggNormSq = 0;            ///< sum ||mean_w g_w||^2
  SlabStats stats;                 ///< method numbers, mean over records
  std::uint64_t nonfinite = 0;     ///< NaN/Inf inputs zeroed (Dump opened with kZero)
  double residualSq = 0;           ///< sum of FeedbackStep::residualSq over the records
  double accErrorSq = 0;           ///< ||A||^2 after the last record (summed over layers)
  double accMeanNormSq = 0;        ///< sum ||ḡ||^2 over the records (the same as aggNormSq)

  /** Adds another layer's totals (for the whole-model row). */
  void Add(const LayerTotals& other);
};

/**
 * Called with the finished totals once the output is fully written and closed (so a write error
 * has already surfaced) and just before it is renamed into place; if it throws (say the report
 * cannot be printed), no output is left behind.
 */
using BeforeCommit = std::function<void(const std::vector<LayerTotals>& totals)>;

/** What a compress run needs beyond the dump and the quantizer. */
struct CompressOptions {
  std::uint64_t seed = 0;
  /** Error feedback; when set (none included), the accumulated error is measured. */
  std::optional<Feedback> feedback;
  std::string outPath;
  RootAttributes attributes;  ///< added to the output's root (inputs, tool version, ...)
  Progress progress;
  BeforeCommit beforeCommit;  ///< optional
};

/**
 * Runs every selected (layer, record) item through one round (pipeline/round.hpp), writes
 * the compressed file (dump layout + /aggregate + message groups, see message_store.hpp) and
 * returns per-layer totals. The output appears only when complete. The root attributes
 * `nonfinite` ("reject" or "zero") and `nonfinite_zeroed` (count) record the dump's NaN/Inf policy.
 * Under error feedback (options.feedback), each layer's records run in order through one
 * FeedbackMemory, and the stored reconstructions are what the server holds (round.hpp).
 * @throws IoError, FormatError, SpecError (a feedback mode the quantizer cannot run under)
 */
std::vector<LayerTotals> RunCompress(const Dump& dump, const Quantizer& quantizer,
                                     const Selection& selection, const CompressOptions& options);

/**
 * Rebuilds the gradients and aggregates of a compressed file from its stored messages alone and
 * writes them as a dump (with /aggregate) to @p outPath, replaying the server's side of the
 * stored error feedback (ef21). Returns per-layer bit totals.
 * @throws IoError, FormatError, SpecError
 */
std::vector<LayerTotals> RunDecompress(const std::string& inPath, const std::string& outPath,
                                       const Progress& progress,
                                       const BeforeCommit& beforeCommit = {});

}  // namespace gradquant
