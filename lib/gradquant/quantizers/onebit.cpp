#include "gradquant/quantizers/onebit.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/fp32.hpp"
#include "gradquant/quantizers/sign_bits.hpp"

namespace gradquant {
namespace {

// Which group flat index i belongs to: rows of the (shape[0], rest) view are i / cols, columns
// i % cols; a 1-D tensor is one group (a single "row" of n columns).
struct Grouping {
  std::size_t count;
  std::size_t cols;
  bool byRow;
  std::size_t Of(std::size_t i) const { return byRow ? i / cols : i % cols; }
};

Grouping GroupingOf(const LayerInfo& layer, bool byRow) {
  if (layer.shape.size() <= 1 || layer.shape[0] == 0 || layer.n == 0) {
    return {1, std::max<std::size_t>(1, layer.n), true};
  }
  const std::size_t rows = layer.shape[0], cols = layer.n / rows;
  return byRow ? Grouping{rows, cols, true} : Grouping{cols, cols, false};
}

// Calls f(i, k) for every coordinate i in order with its group k, without a division.
template <class F>
void ForEachCoordinate(std::size_t n, const Grouping& groups, F&& f) {
  std::size_t k = 0, col = 0;
  for (std::size_t i = 0; i < n; ++i) {
    f(i, groups.byRow ? k : col);
    if (++col == groups.cols) {
      col = 0;
      ++k;
    }
  }
}

// (float)(Σ x / count) for the in-order double sum of the positive (or, negated, the
// non-positive) entries of a contiguous group, certified as in slab_sums.hpp: the lane sums
// bracket the in-order sum; the in-order loop runs only when the bracket straddles a float.
void ContiguousMeans(const float* g, std::size_t n, float* muPos, float* muNeg) {
  constexpr std::size_t kLanes = 8;
  double pos[kLanes] = {}, neg[kLanes] = {};
  std::size_t nPos = 0;
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t j = 0; j < kLanes; ++j) {
      const double x = static_cast<double>(g[i + j]);
      pos[j] += g[i + j] > 0 ? x : 0.0;
      neg[j] += g[i + j] > 0 ? 0.0 : x;
      nPos += g[i + j] > 0 ? 1 : 0;
    }
  }
  double p = 0.0, q = 0.0;
  for (; i < n; ++i) {
    (g[i] > 0 ? p : q) += static_cast<double>(g[i]);
    nPos += g[i] > 0 ? 1 : 0;
  }
  for (std::size_t j = 0; j < kLanes; ++j) {
    p += pos[j];
    q += neg[j];
  }
  const std::size_t nNeg = n - nPos;
  auto mean = [n](double fast, std::size_t count, float* out) {
    if (count == 0) {
      *out = 0.0f;
      return true;
    }
    const double e = 2.01 * static_cast<double>(n) * 0x1p-53 * std::fabs(fast);
    const float a = static_cast<float>((fast - e) / static_cast<double>(count));
    const float b = static_cast<float>((fast + e) / static_cast<double>(count));
    *out = a;
    return a == b && std::isfinite(fast);
  };
  if (mean(p, nPos, muPos) && mean(q, nNeg, muNeg)) return;
  double sumPos = 0.0, sumNeg = 0.0;
  for (std::size_t k = 0; k < n; ++k) (g[k] > 0 ? sumPos : sumNeg) += g[k];
  *muPos = nPos ? static_cast<float>(sumPos / static_cast<double>(nPos)) : 0.0f;
  *muNeg = nNeg ? static_cast<float>(sumNeg / static_cast<double>(nNeg)) : 0.0f;
}

// The transmitted means (mu+, mu-) of every group: sums in double, each group in index order.
std::vector<float> GroupMeans(const arma::fvec& g, const Grouping& groups) {
  std::vector<float> means(2 * groups.count);
  if (groups.byRow) {  // contiguous groups
    for (std::size_t k = 0; k < groups.count; ++k) {
      const std::size_t b = std::min<std::size_t>(g.n_elem, k * groups.cols);
      const std::size_t e = std::min<std::size_t>(g.n_elem, b + groups.cols);
      ContiguousMeans(g.memptr() + b, e - b, &means[2 * k], &means[2 * k + 1]);
    }
    return means;
  }
  // Column groups: row by row, every column its own accumulator (vectorises across columns).
  std::vector<double> sumPos(groups.count, 0.0), sumNeg(groups.count, 0.0);
  std::vector<std::size_t> nPos(groups.count, 0);
  const std::size_t cols = groups.cols;
  for (std::size_t b = 0; b < g.n_elem; b += cols) {
    const float* row = g.memptr() + b;
    const std::size_t len = std::min<std::size_t>(cols, g.n_elem - b);
    for (std::size_t k = 0; k < len; ++k) {
      const bool positive = row[k] > 0;
      const double x = static_cast<double>(row[k]);
      sumPos[k] += positive ? x : 0.0;
      sumNeg[k] += positive ? 0.0 : x;
      nPos[k] += positive ? 1 : 0;
    }
  }
  const std::size_t rows = (g.n_elem + cols - 1) / cols;
  for (std::size_t k = 0; k < groups.count; ++k) {
    const std::size_t total = rows - (k < cols && (rows - 1) * cols + k >= g.n_elem ? 1 : 0);
    const std::size_t nNeg = total - nPos[k];
    means[2 * k] = nPos[k] ? static_cast<float>(sumPos[k] / static_cast<double>(nPos[k])) : 0.0f;
    means[2 * k + 1] = nNeg ? static_cast<float>(sumNeg[k] / static_cast<double>(nNeg)) : 0.0f;
  }
  return means;
}

}  // namespace

OneBitQuantizer::OneBitQuantizer(Params& params) {
  byRow_ = params.Choice("group", "column", {"column", "row"},
                         "means per column (paper) or per row of the (shape[0], -1) view") == "row";
  spec_ = params.Canonical();
}

Message OneBitQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats*) const {
  const std::vector<float> means = GroupMeans(g, GroupingOf(*ctx.layer, byRow_));
  BitWriter w;
  PutFloat32s(w, means.data(), means.size());
  PutSignBits(w, g.memptr(), g.n_elem, /*positive=*/true);
  return w.Finish();
}

arma::fvec OneBitQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const Grouping groups = GroupingOf(*ctx.layer, byRow_);
  std::vector<float> means(2 * groups.count);
  if (64 * static_cast<std::uint64_t>(groups.count) > r.Remaining()) {
    r.Fail("ends before its " + std::to_string(groups.count) + " pairs of means");
  }
  GetFloat32s(r, means.data(), means.size());
  for (std::size_t k = 0; k < groups.count; ++k) {
    if (!std::isfinite(means[2 * k]) || !(means[2 * k] >= 0.0f) ||
        !std::isfinite(means[2 * k + 1]) || !(means[2 * k + 1] <= 0.0f)) {
      r.Fail("group " + std::to_string(k) + " has means outside [0, inf) x (-inf, 0]");
    }
  }
  arma::fvec out(ctx.layer->n, arma::fill::none);  // every coordinate is written below
  std::vector<char> hasPos(groups.count, 0), hasNeg(groups.count, 0);
  constexpr std::size_t kBlock = 4096;
  std::uint32_t bits[kBlock];
  std::size_t k = 0, col = 0;
  for (std::size_t b = 0; b < out.n_elem; b += kBlock) {
    const std::size_t want = std::min<std::size_t>(kBlock, out.n_elem - b);
    // A short message: the bits there are, then the next GetBit fails as it would alone.
    const std::size_t len = std::min<std::uint64_t>(want, r.Remaining());
    r.GetFixed(bits, len, 1);
    for (std::size_t i = 0; i < len; ++i) {
      const std::size_t group = groups.byRow ? k : col;
      const bool positive = bits[i] != 0;
      (positive ? hasPos : hasNeg)[group] = 1;
      out[b + i] = means[2 * group + (positive ? 0 : 1)];
      if (++col == groups.cols) {
        col = 0;
        ++k;
      }
    }
    if (len < want) r.GetBit();
  }
  r.ExpectEnd();
  for (std::size_t k = 0; k < groups.count; ++k) {
    // The encoder sends mu+ > 0 exactly when the group has a positive entry, and 0.0 for an
    // empty side: anything else cannot come from it.
    if ((means[2 * k] > 0.0f) != static_cast<bool>(hasPos[k]) ||
        (!hasNeg[k] && means[2 * k + 1] != 0.0f)) {
      r.Fail("group " + std::to_string(k) + " has means that disagree with its bits");
    }
  }
  return out;
}

Theory OneBitQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  const Grouping groups = GroupingOf(*ctx.layer, byRow_);
  const std::vector<float> means = GroupMeans(g, groups);
  Theory t;
  t.exact = 0.0;
  ForEachCoordinate(g.n_elem, groups, [&](std::size_t i, std::size_t k) {
    const double e = static_cast<double>(means[2 * k + (g[i] > 0 ? 0 : 1)]) - g[i];
    t.exact += e * e;
  });
  return t;
}

}  // namespace gradquant
