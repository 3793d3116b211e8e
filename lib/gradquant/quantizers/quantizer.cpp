#include "gradquant/quantizers/quantizer.hpp"

#include <algorithm>

#include "gradquant/core/parallel.hpp"

namespace gradquant {

const char* Theory::Kind() const {
  if (!std::isnan(exact)) return "exact";
  if (!std::isnan(bound)) return "bound";
  return std::isnan(lowerBound) ? "none" : "lower_bound";
}

std::string CombineTheoryKinds(const std::string& a, const std::string& b) {
  if (a.empty() || a == b) return b;
  if (a == "none" || b == "none") return "none";
  if (a == "exact") return b;  // exact parts keep the other part's kind
  if (b == "exact") return a;
  return "none";  // an upper bound summed with a lower bound bounds nothing
}

std::vector<Message> Quantizer::EncodeGroup(const std::vector<arma::fvec>& slabs,
                                            const SlabContext& ctx, SlabStats* stats) const {
  std::vector<Message> out(slabs.size());
  std::vector<SlabStats> perWorker(slabs.size());
  ParallelFor(slabs.size(), [&](std::size_t w) {
    out[w] = Encode(slabs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)),
                    stats ? &perWorker[w] : nullptr);  // no stats asked: none computed
  });
  // Per-worker numbers are reported as their mean over the group.
  if (stats) {
    for (const auto& s : perWorker) {
      for (const auto& [key, value] : s) (*stats)[key] += value / static_cast<double>(slabs.size());
    }
  }
  return out;
}

Theory Quantizer::ExpectedError(const arma::fvec&, const SlabContext&) const { return {}; }

void Quantizer::Diagnose(const std::vector<arma::fvec>&, const GroupResult&, const SlabContext&,
                         SlabStats*) const {}

std::unique_ptr<LayerState> Quantizer::NewLayerState(const LayerInfo&) const { return nullptr; }

void Quantizer::Observe(LayerState&, const GroupResult&, const SlabContext&) const {}

GroupResult IndependentQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                              const SlabContext& ctx) const {
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    out.workers[w] = Decode(messages[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
  });
  // Summed in worker order, so the aggregate does not depend on the thread count.
  out.aggregate = MeanOf(out.workers);
  out.downlinkBits = 32 * ctx.layer->n;
  return out;
}

namespace {

constexpr std::size_t kBlock = 4096;                  // coordinates summed at once (stack)
constexpr std::size_t kPiece = std::size_t{1} << 18;  // coordinates per parallel piece

// sum[i] = Σ_w slab_w[i] in double, slab order, from 0.0.
__attribute__((target_clones("avx2", "default"))) void SumBlock(const float* const* slabs,
                                                                std::size_t count, std::size_t len,
                                                                double* sum) {
  for (std::size_t i = 0; i < len; ++i) sum[i] = 0.0 + static_cast<double>(slabs[0][i]);
  for (std::size_t w = 1; w < count; ++w) {
    const float* p = slabs[w];
    for (std::size_t i = 0; i < len; ++i) sum[i] += static_cast<double>(p[i]);
  }
}

__attribute__((target_clones("avx2", "default"))) void Times(const double* sum, std::size_t len,
                                                             double factor, float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<float>(sum[i] * factor);
}

__attribute__((target_clones("avx2", "default"))) void DividedBy(const double* sum,
                                                                 std::size_t len, double divisor,
                                                                 float* out) {
  for (std::size_t i = 0; i < len; ++i) out[i] = static_cast<float>(sum[i] / divisor);
}

// Σ_w slabs[w] in double (slab order, from 0.0), then times `factor` or divided by `divisor`.
arma::fvec Reduce(const std::vector<arma::fvec>& slabs, bool divide, double value) {
  const std::size_t n = slabs.at(0).n_elem;
  arma::fvec out(n, arma::fill::none);
  float* dst = out.memptr();
  SplitFor((n + kPiece - 1) / kPiece, [&](std::size_t piece) {
    double sum[kBlock];
    std::vector<const float*> at(slabs.size());
    const std::size_t end = std::min(n, (piece + 1) * kPiece);
    for (std::size_t b = piece * kPiece; b < end; b += kBlock) {
      const std::size_t len = std::min(kBlock, end - b);
      for (std::size_t w = 0; w < slabs.size(); ++w) at[w] = slabs[w].memptr() + b;
      SumBlock(at.data(), at.size(), len, sum);
      (divide ? DividedBy : Times)(sum, len, value, dst + b);
    }
  });
  return out;
}

}  // namespace

arma::fvec MeanOf(const std::vector<arma::fvec>& slabs) {
  return Reduce(slabs, false, 1.0 / static_cast<double>(slabs.size()));
}

arma::fvec MeanByDivision(const std::vector<arma::fvec>& slabs) {
  return Reduce(slabs, true, static_cast<double>(slabs.size()));
}

std::string MessageName(const std::string& spec, const SlabContext& ctx) {
  return spec + " " + ctx.layer->name + " step " + std::to_string(ctx.step) + " worker " +
         std::to_string(ctx.worker);
}

}  // namespace gradquant
