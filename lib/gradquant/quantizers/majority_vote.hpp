#pragma once
/**
 * @file majority_vote.hpp
 * The server's majority vote over sign messages (signSGD-MV, S3GD-MV; docs/quantizers.md#sign,
 * docs/quantizers.md#s3gdmv): \f$v_i = \sum_n t_{n,i}\f$ over the workers' ternary votes t_{n,i} ∈
 * {−1, 0, +1} (0 = the worker did not vote on i), output \f$o_i = \mathrm{sgn0}(v_i)\f$ ∈ {−1, 0,
 * +1}. Ties (v_i = 0 with at least one vote) and coordinates nobody voted on give 0
 * (docs/quantizers.md#signs).
 */
#include <armadillo>
#include <cstddef>
#include <vector>

namespace gradquant {

/** Counts of one vote, for reports. */
struct VoteCounts {
  std::size_t voted = 0;    ///< coordinates with at least one nonzero vote (|∪ S_n|)
  std::size_t ties = 0;     ///< voted coordinates whose votes cancel (v_i = 0)
  std::size_t votes = 0;    ///< nonzero votes cast in total (Σ_n |S_n|)
  std::size_t support = 0;  ///< coordinates with o_i ≠ 0
};

/**
 * The majority vote of @p ternary (one vector per worker, same length, entries in {−1, 0, +1};
 * any other value counts by its sign).
 * @param counts where to store the vote counts (may be null).
 * @throws std::invalid_argument if the vectors differ in length or there are none.
 */
arma::fvec MajorityVote(const std::vector<arma::fvec>& ternary, VoteCounts* counts = nullptr);

}  // namespace gradquant
