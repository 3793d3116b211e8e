#pragma once
/**
 * @file frontier.hpp
 * The best quantizer of each family under a budget of B uplink bits per coordinate, counted
 * from the real encoders' Message::bits over the whole SlabSet (every selected layer, record
 * and worker): the rate–distortion frontier of `gradquant optimize`.
 *
 * For each family a short, deterministic search over its parameters evaluates candidate specs
 * (evaluate.hpp) and keeps the one that fits the budget with the least measured aggregate error
 * (agg_nmse, the server's estimate against the true worker mean); ties go to fewer bits.
 * Only evaluated specs are ever returned, so a returned spec's exact bits never exceed the
 * budget. Parameters not listed keep their defaults. Every evaluation is one pass over the
 * set, reading its items again (evaluate.hpp): memory stays at one item per thread whatever the
 * selection's size, and time grows with the number of evaluations.
 *
 * | family     | searched                                                              |
 * |------------|-----------------------------------------------------------------------|
 * | dqsg       | s in [1, 2^20]: largest s that fits (bits grow with s)                 |
 * | qsgd       | bucket in {0, 512} × largest s in [1, 2^20] that fits                  |
 * | ndqsg      | rho = 2^m × largest s that fits with overload_pred <= tolerance        |
 * | tnq        | bits in [1, 16]: largest that fits                                     |
 * | terngrad   | smallest bucket in {0 (whole), 2^12, ..., 2^2} that fits × packing      |
 * | s3gdmv     | kappa in {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1}         |
 * | topk/randk | kappa = j/10^4, j in [1, 10^4]: largest that fits                      |
 * | powersgd   | rank in [1, max over layers of min(shape[0], n/shape[0])]: largest fit |
 * | gradiveq   | lambda in {0.3, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001} × layers conv|all |
 * | every other registered method (fp32, natural, onebit, scaledsign, sign, ...): its default  |
 * | spec, which fits or not                                                                    |
 *
 * "Largest that fits" is an exponential search from the smallest value followed by bisection,
 * which assumes bits non-decreasing and error non-increasing in the parameter (true in
 * expectation for these families; QSGD's bits are random and only nearly monotone, so the
 * bisection may stop one step short, never beyond the budget).
 */
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gradquant/optimize/evaluate.hpp"
#include "gradquant/optimize/slab_set.hpp"

namespace gradquant {

/** Options of the budget search. */
struct FrontierOptions {
  std::uint64_t seed = 0;           ///< the shared seed of every evaluation
  double overloadTolerance = 1e-3;  ///< NDQSG: largest accepted overload_pred
  /** Error feedback around every candidate (evaluate.hpp); a family that cannot run under it
   * is reported infeasible with the reason. */
  std::optional<Feedback> feedback;
};

/** The answer for one family at one budget. */
struct FrontierEntry {
  double budget = 0;  ///< bits per coordinate
  std::string family;
  bool feasible = false;
  std::string spec;             ///< canonical winner; the cheapest candidate if infeasible
  RateDistortion result;        ///< of spec
  std::string reason;           ///< why infeasible (empty if feasible)
  std::string searched;         ///< what was searched
  std::size_t evaluations = 0;  ///< distinct specs evaluated for this family (all budgets)
  std::size_t rank =
      0;  ///< 1 + feasible families of this budget with less agg_nmse; 0 if infeasible
};

/**
 * Every family the frontier knows, in report order: those with a search of their own, then
 * every other registered quantizer (searched at its default spec), so a new method takes part
 * without an entry here.
 */
std::vector<std::string> FrontierFamilies();

/**
 * One entry per (budget, family), budgets outer. Evaluations are cached by canonical spec
 * across budgets and families.
 * @throws SpecError for an unknown family or a budget <= 0.
 */
std::vector<FrontierEntry> SearchFrontier(const SlabSet& set, const std::vector<double>& budgets,
                                          const std::vector<std::string>& families,
                                          const FrontierOptions& options);

}  // namespace gradquant
