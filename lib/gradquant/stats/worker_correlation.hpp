#pragma once
/**
 * @file worker_correlation.hpp
 * Pearson correlation across workers (docs/cli.md#columns-of-the-gradients-table): how alike the
 * workers' gradients are, which is what side-information (NDQSG), vote (signSGD-MV, S3GD-MV) and
 * subspace (GradiVeQ) methods exploit.
 *
 * For W workers' slabs x_1..x_W of one layer (coordinates as samples), the centered co-moment
 * matrix C_ab = Σ_i (x_ai − x̄_a)(x_bi − x̄_b) gives Pearson's r_ab = C_ab/sqrt(C_aa C_bb).
 * Co-moments of several slabs (records, layers) merge as the co-moments of their concatenation
 * (Chan et al. 1979): C = C_1 + C_2 + (n_1 n_2/n)(x̄_1 − x̄_2)(x̄_1 − x̄_2)^T.
 *
 * Correlation of worker w with the mean of the others, o_w = (1/(W−1)) Σ_{k≠w} x_k:
 * \f[ r(x_w, o_w) = \frac{\sum_{k\ne w} C_{wk}}{\sqrt{C_{ww}\sum_{k,l\ne w} C_{kl}}} . \f]
 */
#include <armadillo>
#include <vector>

namespace gradquant {

/** Centered co-moments of W equally long series; mergeable. */
struct CoMoments {
  double count = 0;  ///< samples (coordinates) per worker
  arma::vec mean;    ///< W means
  arma::mat c;       ///< W×W centered co-moment matrix

  /** Co-moments of the workers' slabs (all of one length, at least one worker). */
  static CoMoments Of(const std::vector<arma::fvec>& slabs);

  /** Pools @p other (same W) into this: the co-moments of the concatenated series. */
  void Merge(const CoMoments& other);

  /** The W×W Pearson matrix; NaN rows/columns for constant workers (diagonal 1 otherwise). */
  arma::mat Pearson() const;

  /** r(x_w, mean of the others) for each worker; NaN where undefined (W < 2, constants). */
  arma::vec CorrWithOthers() const;
};

/** Mean, minimum and maximum of a matrix's off-diagonal entries, NaN entries skipped. */
struct OffDiagonal {
  double mean, min, max;  ///< NaN if there is no finite off-diagonal entry (e.g. W = 1)
};

/** Summarises the off-diagonal of a square matrix. */
OffDiagonal SummarizeOffDiagonal(const arma::mat& m);

}  // namespace gradquant
