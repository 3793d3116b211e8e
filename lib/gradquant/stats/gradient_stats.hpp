#pragma once
/**
 * @file gradient_stats.hpp
 * How the gradients themselves behave, per (layer, record) or pooled over several: size, tails,
 * fitted laws, and agreement across workers (docs/cli.md#columns-of-the-gradients-table).
 * `gradquant analyze` prints one row of GradientStats per GradientSummary.
 *
 * A summary of one (layer, record) pools every coordinate of every worker. Summaries merge:
 * - exactly, as the statistics of the concatenated data: the moments (norm, max |g|, kurtosis,
 *   Laplace scale, Gaussian σ), the co-moments (Pearson matrix, correlation with the others)
 *   and the sign-agreement counts;
 * - as the mean weighted by the slabs' sizes n: the KS distances and the Top-K Jaccard index,
 *   which are not defined on a concatenation of unrelated slabs.
 */
#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

#include "gradquant/stats/moments.hpp"
#include "gradquant/stats/worker_agreement.hpp"
#include "gradquant/stats/worker_correlation.hpp"

namespace gradquant {

/** The finished numbers of one row; see docs/cli.md#columns-of-the-gradients-table for each. */
struct GradientStats {
  double norm;          ///< sqrt(mean over workers and records of ||g_w||²) (whole row)
  double meanNorm;      ///< sqrt(mean over records of ||ḡ||²), ḡ the workers' mean
  double maxAbs;        ///< max |g| over all workers and records
  double kurtosis;      ///< excess kurtosis of the pooled values
  double laplaceScale;  ///< zero-location Laplace MLE: mean |g|
  double gaussSigma;    ///< zero-mean Gaussian MLE: sqrt(mean g²)
  double ksLaplace;     ///< KS distance to Laplace(0, laplaceScale)
  double ksGauss;       ///< KS distance to N(0, gaussSigma²)
  arma::mat corr;       ///< W×W Pearson matrix
  double corrMean, corrMin, corrMax;  ///< off-diagonal of corr
  double corrOthers;                  ///< mean over workers of r(g_w, mean of the others)
  double signAgree;                   ///< sign agreement with the mean, raw
  double signAgreeWeighted;           ///< sign agreement with the mean, |ḡ|-weighted
  double topkK;                       ///< K of the Top-K sets (NaN for pooled rows)
  double topkJaccard;                 ///< mean Jaccard index of Top-K sets over worker pairs
};

/** Mergeable statistics of one (layer, record) slab group, or of several pooled. */
struct GradientSummary {
  std::uint64_t n = 0;        ///< coordinates per worker and record (summed over layers)
  std::uint64_t records = 0;  ///< records covered
  std::uint64_t workers = 0;
  Moments pooled;     ///< all coordinates of all workers
  double meanSq = 0;  ///< Σ over records of ||ḡ||²
  CoMoments co;
  SignAgreement sign;
  double ksLaplaceSum = 0, ksGaussSum = 0, ksWeight = 0;  ///< n-weighted sums
  double jaccardSum = 0, jaccardWeight = 0;               ///< n-weighted sums
  double topkK = 0;  ///< K of the Top-K sets; NaN once layers are pooled

  /** The summary of one (layer, record): the W workers' slabs (equal lengths, W >= 1). */
  static GradientSummary Of(const std::vector<arma::fvec>& slabs);

  /**
   * Pools @p other into this. @p acrossLayers: the other covers different coordinates of the
   * same records (n adds up, records stay); otherwise further records of the same layer.
   */
  void Merge(const GradientSummary& other, bool acrossLayers);

  /** The finished numbers. */
  GradientStats Finish() const;
};

}  // namespace gradquant
