#include "gradquant/quantizers/onebit.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"

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

// The transmitted means (mu+, mu-) of every group.
std::vector<float> GroupMeans(const arma::fvec& g, const Grouping& groups) {
  std::vector<double> sumPos(groups.count, 0.0), sumNeg(groups.count, 0.0);
  std::vector<std::size_t> nPos(groups.count, 0), nNeg(groups.count, 0);
  for (std::size_t i = 0; i < g.n_elem; ++i) {
    const std::size_t k = groups.Of(i);
    if (g[i] > 0) {
      sumPos[k] += g[i];
      ++nPos[k];
    } else {
      sumNeg[k] += g[i];
      ++nNeg[k];
    }
  }
  std::vector<float> means(2 * groups.count);
  for (std::size_t k = 0; k < groups.count; ++k) {
    means[2 * k] = nPos[k] ? static_cast<float>(sumPos[k] / static_cast<double>(nPos[k])) : 0.0f;
    means[2 * k + 1] =
        nNeg[k] ? static_cast<float>(sumNeg[k] / static_cast<double>(nNeg[k])) : 0.0f;
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
  for (float m : means) w.PutFloat32(m);
  for (float x : g) w.PutBit(x > 0);
  return w.Finish();
}

arma::fvec OneBitQuantizer::Decode(const Message& message, const SlabContext& ctx) const {
  BitReader r(message, MessageName(spec_, ctx));
  const Grouping groups = GroupingOf(*ctx.layer, byRow_);
  std::vector<float> means(2 * groups.count);
  if (64 * static_cast<std::uint64_t>(groups.count) > r.Remaining()) {
    r.Fail("ends before its " + std::to_string(groups.count) + " pairs of means");
  }
  for (std::size_t k = 0; k < groups.count; ++k) {
    means[2 * k] = r.GetFloat32();
    means[2 * k + 1] = r.GetFloat32();
    if (!std::isfinite(means[2 * k]) || !(means[2 * k] >= 0.0f) ||
        !std::isfinite(means[2 * k + 1]) || !(means[2 * k + 1] <= 0.0f)) {
      r.Fail("group " + std::to_string(k) + " has means outside [0, inf) x (-inf, 0]");
    }
  }
  arma::fvec out(ctx.layer->n);
  std::vector<char> hasPos(groups.count, 0), hasNeg(groups.count, 0);
  for (std::size_t i = 0; i < out.n_elem; ++i) {
    const std::size_t k = groups.Of(i);
    const bool positive = r.GetBit();
    (positive ? hasPos : hasNeg)[k] = 1;
    out[i] = means[2 * k + (positive ? 0 : 1)];
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
  for (std::size_t i = 0; i < g.n_elem; ++i) {
    const std::size_t k = groups.Of(i);
    const double e = static_cast<double>(means[2 * k + (g[i] > 0 ? 0 : 1)]) - g[i];
    t.exact += e * e;
  }
  return t;
}

}  // namespace gradquant
