#include "gradquant/quantizers/s3gdmv.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/coding/index_coder.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/majority_vote.hpp"
#include "gradquant/quantizers/top_k_select.hpp"
#include "gradquant/random/partial_shuffle.hpp"

namespace gradquant {
namespace {

// Sign bit of docs/quantizers.md#signs: 1 for negative, 0 for x >= 0.
bool Negative(float x) { return x < 0.0f; }

// One sign bit per index, 64 at a time (as one PutBit each).
void PutSigns(BitWriter& w, const std::vector<std::size_t>& idx, const float* v) {
  LocalBits bits(w);
  for (std::uint64_t i : idx) bits.Put(Negative(v[i]) ? 1 : 0, 1);
}

// The signs back, 57 at a time (one GetBit each where the message runs short, so the error is
// the same).
arma::fvec TernaryFromSigns(BitReader& r, const std::vector<std::size_t>& idx, std::uint64_t n) {
  arma::fvec t(n, arma::fill::zeros);
  std::size_t j = 0;
  while (j < idx.size()) {
    const int m = static_cast<int>(std::min<std::size_t>(57, idx.size() - j));
    if (static_cast<std::uint64_t>(m) > r.Remaining()) {
      for (; j < idx.size(); ++j) t[idx[j]] = r.GetBit() ? -1.0f : 1.0f;
      break;
    }
    const std::uint64_t bits = r.Get(m);
    for (int b = 0; b < m; ++b)
      t[idx[j + static_cast<std::size_t>(b)]] = (bits >> (m - 1 - b)) & 1 ? -1.0f : 1.0f;
    j += static_cast<std::size_t>(m);
  }
  return t;
}

// EncodeTernary(t).bits without writing it: the index set's gamma codes and one bit per nonzero.
std::uint64_t TernaryBits(const arma::fvec& t) {
  std::uint64_t support = 0, bits = 0, next = 0;
  const float* v = t.memptr();
  for (std::size_t i = 0; i < t.n_elem; ++i) {
    if (v[i] == 0.0f) continue;
    bits += 2 * static_cast<std::uint64_t>(64 - __builtin_clzll(i + 1 - next));  // gamma + sign
    next = i + 1;
    ++support;
  }
  return bits + static_cast<std::uint64_t>(GammaLength(support + 1));
}

// The rand-mode set: the shared-seed partial Fisher–Yates sample, sorted.
std::vector<std::size_t> RandomSet(const SlabContext& ctx, std::uint64_t n, std::uint64_t k) {
  std::vector<std::size_t> set =
      PartialShuffle(Rng(ctx.Key(), Purpose::kSelection), n, std::min(n, k));
  std::sort(set.begin(), set.end());
  return set;
}

double Fraction(double count, std::uint64_t n) { return n ? count / static_cast<double>(n) : 0.0; }

}  // namespace

Message EncodeTernary(const arma::fvec& t) {
  std::vector<std::size_t> support;
  for (std::size_t i = 0; i < t.n_elem; ++i) {
    if (t[i] != 0.0f) support.push_back(i);
  }
  BitWriter w;
  PutIndexSet(w, support, t.n_elem, IndexCode::kGamma);
  PutSigns(w, support, t.memptr());
  return w.Finish();
}

arma::fvec DecodeTernary(const Message& message, std::uint64_t n, const std::string& what) {
  BitReader r(message, what);
  const auto idx = GetIndexSet(r, n, n, IndexCode::kGamma);
  arma::fvec t = TernaryFromSigns(r, idx, n);
  r.ExpectEnd();
  return t;
}

std::uint64_t CeilLog2Binomial(std::uint64_t n, std::uint64_t k) {
  if (k == 0 || k >= n) return 0;
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  const double x =
      (std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1)) / std::log(2.0);
  // lgamma's round-off must not push a whole logarithm (C(1024,1) = 2^10) to the next integer.
  const double whole = std::round(x);
  if (std::fabs(x - whole) <= 1e-9 * std::max(1.0, x)) return static_cast<std::uint64_t>(whole);
  return static_cast<std::uint64_t>(std::ceil(x));
}

S3gdmvQuantizer::S3gdmvQuantizer(Params& params) {
  k_ = static_cast<std::uint64_t>(
      params.Int("k", 0, 0, std::int64_t{1} << 40,
                 "coordinates each worker votes on per tensor (0 = use kappa)"));
  kappa_ = params.AutoOrReal(
      "kappa", 0.0, 1.0,
      "fraction voted on per tensor, K = ceil(kappa*D); auto = ceil(D/N), the K ~ D/N heuristic");
  random_ = params.Choice("select", "top", {"top", "rand"},
                          "largest |g_i| (index set sent) or random K from the shared seed "
                          "(no index bits)") == "rand";
  spec_ = params.Canonical();
}

std::uint64_t S3gdmvQuantizer::Budget(std::uint64_t n, std::uint32_t workers) const {
  if (k_ > 0) return std::min(k_, n);
  if (std::isnan(kappa_)) {
    const std::uint64_t w = std::max<std::uint32_t>(workers, 1);
    return (n + w - 1) / w;
  }
  const double x = kappa_ * static_cast<double>(n);
  return std::min(n, static_cast<std::uint64_t>(std::ceil(x * (1.0 - 1e-12))));
}

std::vector<std::size_t> S3gdmvQuantizer::Select(const arma::fvec& g,
                                                 const SlabContext& ctx) const {
  const std::uint64_t budget = Budget(g.n_elem, ctx.workers);
  if (random_) return RandomSet(ctx, g.n_elem, budget);
  return TopKIndices(g.memptr(), g.n_elem, budget);  // min(K, nnz): zeros are never chosen
}

Message S3gdmvQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                SlabStats* stats) const {
  const auto chosen = Select(g, ctx);
  BitWriter w;
  if (!random_) PutIndexSet(w, chosen, g.n_elem, IndexCode::kGamma);
  PutSigns(w, chosen, g.memptr());
  if (stats) {
    const double size = static_cast<double>(chosen.size());
    const std::uint64_t n = g.n_elem;
    (*stats)["selected"] = size;
    (*stats)["bits_naive"] = size * (1.0 + CeilLog2(n));
    (*stats)["bits_enum"] = size + static_cast<double>(CeilLog2Binomial(n, chosen.size()));
    (*stats)["bits_bitmap"] = static_cast<double>(n) + size;
  }
  return w.Finish();
}

GroupResult S3gdmvQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                         const SlabContext& ctx) const {
  const std::uint64_t n = ctx.layer->n;
  const std::uint64_t budget = Budget(n, ctx.workers);
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    const SlabContext wctx = ctx.ForWorker(static_cast<std::uint32_t>(w));
    BitReader r(messages[w], MessageName(spec_, wctx));
    const std::vector<std::size_t> chosen =
        random_ ? RandomSet(wctx, n, budget) : GetIndexSet(r, n, budget, IndexCode::kGamma);
    out.workers[w] = TernaryFromSigns(r, chosen, n);
    r.ExpectEnd();
  });
  VoteCounts counts;
  out.aggregate = MajorityVote(out.workers, &counts);
  out.downlinkBits = TernaryBits(out.aggregate);
  out.stats["vote_coverage"] = Fraction(static_cast<double>(counts.voted), n);
  out.stats["mean_votes"] = Fraction(static_cast<double>(counts.votes), n);
  out.stats["tie_frac"] = Fraction(static_cast<double>(counts.ties), n);
  out.stats["support_frac"] = Fraction(static_cast<double>(counts.support), n);
  out.stats["downlink_bits_enum"] =
      static_cast<double>(counts.support + CeilLog2Binomial(n, counts.support));
  return out;
}

Theory S3gdmvQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  // Best-scalar-fit error of a ternary output with signs of g on S: ||g||^2 - (sum_S |g_i|)^2/|S|.
  double normSq = 0.0, absSum = 0.0;
  for (float x : g) {
    normSq += static_cast<double>(x) * x;
    absSum += std::fabs(static_cast<double>(x));
  }
  Theory t;
  if (!random_) {
    double picked = 0.0;
    const auto chosen = Select(g, ctx);
    for (std::uint64_t i : chosen) picked += std::fabs(static_cast<double>(g[i]));
    t.exact =
        chosen.empty() ? normSq : normSq - picked * picked / static_cast<double>(chosen.size());
    return t;
  }
  // Uniform K-subset without replacement: P(i in S) = K/D, P(i, j in S) = K(K-1)/(D(D-1)).
  const double d = static_cast<double>(g.n_elem);
  const double k = static_cast<double>(Budget(g.n_elem, ctx.workers));
  if (k == 0) {
    t.exact = normSq;
  } else if (k == d) {
    t.exact = normSq - absSum * absSum / d;
  } else {
    const double pairs = k * (k - 1) / (d * (d - 1));
    const double meanSq = (k / d) * normSq + pairs * (absSum * absSum - normSq);
    t.exact = normSq - meanSq / k;
  }
  return t;
}

void S3gdmvQuantizer::Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                               const SlabContext&, SlabStats* stats) const {
  if (!stats || truth.empty()) return;
  const std::size_t n = decoded.aggregate.n_elem;
  double agreeWeight = 0.0, weight = 0.0, agree = 0.0, support = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const float o = decoded.aggregate[i];
    if (o == 0.0f) continue;
    double mean = 0.0;
    for (const auto& g : truth) mean += static_cast<double>(g[i]);
    mean /= static_cast<double>(truth.size());
    const bool same = (o > 0 && mean > 0) || (o < 0 && mean < 0);
    support += 1.0;
    agree += same ? 1.0 : 0.0;
    weight += std::fabs(mean);
    agreeWeight += same ? std::fabs(mean) : 0.0;
  }
  // An empty support (or one where the mean is 0) has nothing to disagree with: report 1.
  (*stats)["sign_agree"] = weight > 0 ? agreeWeight / weight : 1.0;
  (*stats)["sign_agree_raw"] = support > 0 ? agree / support : 1.0;
}

}  // namespace gradquant
