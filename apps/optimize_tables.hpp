#pragma once
/**
 * @file optimize_tables.hpp
 * The tables `gradquant optimize` prints (docs/cli.md#optimize): thresholds per
 * (layer, record, bits), the error-against-α curve of one layer, and the budget frontier.
 */
#include <cstdint>
#include <string>
#include <vector>

#include "gradquant/optimize/frontier.hpp"
#include "gradquant/optimize/slab_set.hpp"
#include "gradquant/optimize/threshold_search.hpp"
#include "report.hpp"

namespace gradquant::cli {

/**
 * One row per (layer, record, bits) of @p set, reading one (layer, record) item at a time;
 * @p recordIndex maps the set's records to the dump's record numbers. @p base gives the seed
 * and trials (layer and step are filled in).
 */
Report ThresholdReport(const SlabSet& set, const std::vector<std::size_t>& recordIndex,
                       const std::vector<std::uint32_t>& bits, const TnqTrials& base,
                       const ThresholdOptions& opts);

/**
 * The measured and predicted error at @p points thresholds (rows `point = grid`), then the rows
 * `closed`, `gauss`, `empirical_pdf` and `search`, for the first layer and record of @p set.
 */
Report CurveReport(const SlabSet& set, std::size_t recordIndex, std::uint32_t bits,
                   const TnqTrials& where, const ThresholdOptions& opts, std::size_t points);

/** One row per (budget, family); infeasible rows have no spec and no numbers. */
Report FrontierReport(const SlabSet& set, const std::vector<double>& budgets,
                      const std::vector<std::string>& families, const FrontierOptions& opts);

}  // namespace gradquant::cli
