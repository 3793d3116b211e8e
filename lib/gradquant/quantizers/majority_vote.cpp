#include "gradquant/quantizers/majority_vote.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

#include "gradquant/core/parallel.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kBlock = 4096;                  // coordinates tallied at once (stack)
constexpr std::size_t kPiece = std::size_t{1} << 18;  // coordinates per parallel piece

// tally_i += sign(x_i), cast_i += [x_i != 0 as a vote] (NaN votes nothing, as the comparisons).
__attribute__((target_clones("avx2", "default"))) void Tally(const float* x, std::size_t n,
                                                             std::int32_t* tally,
                                                             std::int32_t* cast) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t vote = (x[i] > 0.0f) - (x[i] < 0.0f);
    tally[i] += vote;
    cast[i] += vote != 0 ? 1 : 0;
  }
}

// out_i = sign(tally_i); adds the block's counts (32-bit lanes: a block is far below 2^31).
__attribute__((target_clones("avx2", "default"))) void Finish(const std::int32_t* tally,
                                                              const std::int32_t* cast,
                                                              std::size_t n, float* out,
                                                              VoteCounts* c) {
  std::int32_t votes = 0, voted = 0, ties = 0, support = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t t = tally[i], v = cast[i];
    out[i] = static_cast<float>((t > 0) - (t < 0));
    const std::int32_t any = v != 0, nonzero = t != 0;
    votes += v;
    voted += any;
    ties += any & (1 - nonzero);
    support += nonzero;
  }
  c->votes += static_cast<std::size_t>(votes);
  c->voted += static_cast<std::size_t>(voted);
  c->ties += static_cast<std::size_t>(ties);
  c->support += static_cast<std::size_t>(support);
}

}  // namespace

arma::fvec MajorityVote(const std::vector<arma::fvec>& ternary, VoteCounts* counts) {
  if (ternary.empty()) throw std::invalid_argument("MajorityVote: no votes");
  const std::size_t n = ternary[0].n_elem;
  for (const auto& t : ternary) {
    if (t.n_elem != n) throw std::invalid_argument("MajorityVote: vote vectors differ in length");
  }
  // Integer tallies: exact for any number of workers (below 2^31), unlike a float sum. Block by
  // block, so no n-sized temporaries; the counts are integers, summed over pieces in any order.
  arma::fvec out(n, arma::fill::none);
  const std::size_t pieces = (n + kPiece - 1) / kPiece;
  std::vector<VoteCounts> part(pieces);
  float* dst = out.memptr();
  SplitFor(pieces, [&](std::size_t p) {
    std::int32_t tally[kBlock], cast[kBlock];
    const std::size_t end = std::min(n, (p + 1) * kPiece);
    for (std::size_t b = p * kPiece; b < end; b += kBlock) {
      const std::size_t len = std::min(kBlock, end - b);
      std::fill(tally, tally + len, 0);
      std::fill(cast, cast + len, 0);
      for (const auto& t : ternary) Tally(t.memptr() + b, len, tally, cast);
      Finish(tally, cast, len, dst + b, &part[p]);
    }
  });
  if (counts) {
    VoteCounts c;
    for (const auto& p : part) {
      c.votes += p.votes;
      c.voted += p.voted;
      c.ties += p.ties;
      c.support += p.support;
    }
    *counts = c;
  }
  return out;
}

}  // namespace gradquant
