#pragma once
/**
 * @file analyze_job.hpp
 * `analyze` as a library call: stream a dump one (layer, record) at a time, measure each
 * quantizer over R trials (pipeline/quantizer_trials.hpp) and summarise the gradients themselves
 * (stats/gradient_stats.hpp), then group the rows by record, layer or the whole model.
 * No printing; progress goes through a callback.
 */
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gradquant/core/progress.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/pipeline/error_feedback.hpp"
#include "gradquant/pipeline/quantizer_tally.hpp"
#include "gradquant/pipeline/selection.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/stats/gradient_stats.hpp"

namespace gradquant {

/** How rows are grouped: one per (layer, record), per layer, or one for the whole model. */
enum class GroupBy { kRecord, kLayer, kAll };

/** Where a row sits: a layer name or "*", a record index and its step or -1 for "*". */
struct RowKey {
  std::string layer;
  std::int64_t record = -1;
  std::int64_t step = -1;
};

/** One quantizer row. */
struct QuantizerResult {
  std::size_t quantizer = 0;         ///< position in the quantizer list
  std::optional<Feedback> feedback;  ///< the error-feedback mode (unset: none, not measured)
  RowKey key;
  QuantizerTally tally;
};

/** One gradient-statistics row. */
struct GradientResult {
  RowKey key;
  GradientSummary summary;
};

/** Both tables, in order: quantizer, feedback mode, then layer (model order), then record. */
struct AnalyzeResult {
  std::vector<QuantizerResult> quantizers;
  std::vector<GradientResult> gradients;
};

/** What an analyze run needs beyond the dump and the quantizers. */
struct AnalyzeOptions {
  std::uint64_t seed = 0;
  std::size_t trials = 20;
  bool gradientStats = true;  ///< also summarise the gradients
  /**
   * Error-feedback modes to run every quantizer under, one row set each; empty: none, with the
   * accumulated error not measured. Any mode runs each layer's records in order.
   */
  std::vector<Feedback> feedback;
  Progress progress;  ///< after each (layer, record)
};

/**
 * Measures every quantizer on every selected (layer, record) and summarises the gradients;
 * one row per (layer, record). Records are processed in order within a layer, so stateful
 * methods see them as compress does.
 * @throws IoError, FormatError, SpecError (a feedback mode a quantizer cannot run under),
 *         std::invalid_argument if trials == 0
 */
AnalyzeResult RunAnalyze(const Dump& dump, const std::vector<const Quantizer*>& quantizers,
                         const Selection& selection, const AnalyzeOptions& options);

/** Groups per-(layer, record) rows: kRecord keeps them, kLayer pools records, kAll everything. */
AnalyzeResult Group(const AnalyzeResult& perRecord, GroupBy by);

}  // namespace gradquant
