#include "gradquant/quantizers/majority_vote.hpp"

#include <cstdint>
#include <stdexcept>

namespace gradquant {

arma::fvec MajorityVote(const std::vector<arma::fvec>& ternary, VoteCounts* counts) {
  if (ternary.empty()) throw std::invalid_argument("MajorityVote: no votes");
  const std::size_t n = ternary[0].n_elem;
  for (const auto& t : ternary) {
    if (t.n_elem != n) throw std::invalid_argument("MajorityVote: vote vectors differ in length");
  }
  // Integer tallies: exact for any number of workers, unlike a float sum.
  std::vector<std::int64_t> tally(n, 0);
  std::vector<std::uint32_t> cast(n, 0);
  VoteCounts c;
  for (const auto& t : ternary) {
    for (std::size_t i = 0; i < n; ++i) {
      const int vote = (t[i] > 0.0f) - (t[i] < 0.0f);
      tally[i] += vote;
      cast[i] += vote != 0 ? 1 : 0;
    }
  }
  arma::fvec out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>((tally[i] > 0) - (tally[i] < 0));
    c.votes += cast[i];
    if (cast[i] == 0) continue;
    ++c.voted;
    if (tally[i] == 0)
      ++c.ties;
    else
      ++c.support;
  }
  if (counts) *counts = c;
  return out;
}

}  // namespace gradquant
