#include "gradquant/quantizers/gradiveq.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/fp32.hpp"

namespace gradquant {
namespace {

const GradiveqState* StateOf(const SlabContext& ctx) {
  return dynamic_cast<const GradiveqState*>(ctx.state);
}

// N, the number of workers whose sum the coefficients add up to (μ/N per worker).
double Workers(const SlabContext& ctx) {
  return static_cast<double>(std::max<std::uint32_t>(ctx.workers, 1));
}

bool Compressed(const SlabContext& ctx) {
  const GradiveqState* state = StateOf(ctx);
  return state && state->CompressesStep(ctx.step);
}

Message Float32Message(const arma::fvec& g) {
  BitWriter w;
  PutFloat32s(w, g.memptr(), g.n_elem);
  return w.Finish();
}

arma::fvec ReadFloat32(BitReader& r, std::uint64_t n) {
  arma::fvec out(n, arma::fill::none);
  GetFloat32s(r, out.memptr(), out.n_elem);
  r.ExpectEnd();
  return out;
}

// Sum of squares of the first n entries of a sliced matrix (the padding is not real data).
double RealSquaredNorm(const arma::mat& x, std::uint64_t n) {
  double sum = 0.0;
  for (std::uint64_t i = 0; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

}  // namespace

bool GradiveqState::CompressesStep(std::uint64_t step) const {
  return fitted && std::find(fitSteps.begin(), fitSteps.end(), step) == fitSteps.end();
}

GradiveqQuantizer::GradiveqQuantizer(Params& params) {
  k_ = static_cast<std::uint64_t>(params.Int(
      "k", 0, 0, std::int64_t{1} << 32,
      "slice size K (0 = auto: filters x input channels for conv, else the last dimension)"));
  lambda_ = params.Real("lambda", 0.01, 0.0, 1.0,
                        "energy loss: d is the smallest dimension keeping 1-lambda (eq. 6)");
  all_ =
      params.Choice("layers", "conv", {"conv", "all"},
                    "which layers to compress: 4-D conv weights (paper) or every tensor") == "all";
  fit_ = static_cast<std::uint64_t>(params.Int(
      "fit", 1, 1, 1 << 20, "leading records of each layer sent as float32 to fit U and mu"));
  spec_ = params.Canonical();
}

std::unique_ptr<LayerState> GradiveqQuantizer::NewLayerState(const LayerInfo& layer) const {
  const SliceLayout layout = Layout(layer);
  if (!layout.compress) return nullptr;  // sent as float32 throughout: nothing to remember
  auto state = std::make_unique<GradiveqState>();
  state->layout = layout;
  state->samples.zeros(layout.k, layout.slices * fit_);
  return state;
}

arma::mat GradiveqQuantizer::Coefficients(const arma::fvec& g, const GradiveqState& state,
                                          const SlabContext& ctx) const {
  arma::mat x = ToSlices(g.memptr(), *ctx.layer, state.layout);
  x.each_col() -= state.basis.mu / Workers(ctx);
  const arma::mat c = state.basis.u.t() * x;
  // What travels is float32: round here so every user of the coefficients sees the wire value.
  return arma::conv_to<arma::mat>::from(arma::conv_to<arma::fmat>::from(c));
}

Message GradiveqQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats*) const {
  if (!Compressed(ctx)) return Float32Message(g);
  const arma::mat c = Coefficients(g, *StateOf(ctx), ctx);
  BitWriter w;
  for (double x : c) w.PutFloat32(static_cast<float>(x));  // column m = slice m
  return w.Finish();
}

GroupResult GradiveqQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                           const SlabContext& ctx) const {
  const LayerInfo& layer = *ctx.layer;
  GroupResult out;
  out.workers.resize(messages.size());
  const double workers = static_cast<double>(std::max<std::size_t>(messages.size(), 1));
  if (!Compressed(ctx)) {
    ParallelFor(messages.size(), [&](std::size_t w) {
      BitReader r(messages[w], MessageName(spec_, ctx.ForWorker(static_cast<std::uint32_t>(w))));
      out.workers[w] = ReadFloat32(r, layer.n);
    });
    out.aggregate = MeanByDivision(out.workers);
    out.downlinkBits = 32 * layer.n;
    out.stats["compressed"] = 0.0;
    return out;
  }
  const GradiveqState& state = *StateOf(ctx);
  const PcaBasis& basis = state.basis;
  const SliceLayout& layout = state.layout;
  const arma::vec workerMean = basis.mu / Workers(ctx);
  arma::mat sum(basis.d, layout.slices, arma::fill::zeros);
  arma::mat coeff(basis.d, layout.slices);
  for (std::size_t w = 0; w < messages.size(); ++w) {
    BitReader r(messages[w], MessageName(spec_, ctx.ForWorker(static_cast<std::uint32_t>(w))));
    for (double& x : coeff) x = static_cast<double>(r.GetFloat32());
    r.ExpectEnd();
    sum += coeff;  // the compressed-domain sum of eq. (4)
    arma::mat recon = basis.u * coeff;
    recon.each_col() += workerMean;
    out.workers[w].set_size(layer.n);
    FromSlices(recon, layer, layout, out.workers[w].memptr());
  }
  arma::mat total = basis.u * sum;  // decoded once (eq. 5), then divided into the mean
  total.each_col() += basis.mu;
  total /= workers;
  out.aggregate.set_size(layer.n);
  FromSlices(total, layer, layout, out.aggregate.memptr());
  out.downlinkBits = 32 * basis.d * layout.slices;
  out.stats["compressed"] = 1.0;
  return out;
}

void GradiveqQuantizer::Observe(LayerState& base, const GroupResult& decoded,
                                const SlabContext& ctx) const {
  auto& state = dynamic_cast<GradiveqState&>(base);
  if (state.fitted || state.failed || state.fitSteps.size() >= fit_) return;
  // Every node holds the aggregate of an uncompressed record; the worker sum is aggregate·N.
  arma::mat x = ToSlices(decoded.aggregate.memptr(), *ctx.layer, state.layout);
  x *= Workers(ctx);
  const std::uint64_t first = state.fitSteps.size() * state.layout.slices;
  state.samples.cols(first, first + state.layout.slices - 1) = x;
  state.fitSteps.push_back(ctx.step);
  if (state.fitSteps.size() < fit_) return;
  state.basis = FitBasis(state.samples, lambda_);
  state.fitted = state.basis.ok;
  state.failed = !state.basis.ok;
  state.samples.reset();
}

Theory GradiveqQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  Theory t;
  t.exact = 0.0;  // float32 records are exact
  if (!Compressed(ctx)) return t;
  const GradiveqState& state = *StateOf(ctx);
  arma::mat x = ToSlices(g.memptr(), *ctx.layer, state.layout);
  x.each_col() -= state.basis.mu / Workers(ctx);
  // g − (U Uᵀ(g − μ/N) + μ/N) = (I − U Uᵀ)(g − μ/N), before float32 rounding of coefficients.
  const arma::mat residual = x - state.basis.u * (state.basis.u.t() * x);
  t.exact = RealSquaredNorm(residual, ctx.layer->n);
  return t;
}

void GradiveqQuantizer::Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                                 const SlabContext& ctx, SlabStats* stats) const {
  const GradiveqState* state = StateOf(ctx);
  if (!stats || !state || !state->fitted) return;
  (*stats)["d"] = static_cast<double>(state->basis.d);
  (*stats)["retained_energy"] = state->basis.retained;
  if (!state->CompressesStep(ctx.step) || truth.empty()) {
    (*stats)["commute_residual"] = 0.0;  // float32 records: summation commutes exactly
    return;
  }
  const PcaBasis& basis = state->basis;
  const std::uint64_t n = ctx.layer->n;
  // ||Σ_n Q(g_n) − Q(Σ_n g_n)|| / ||Q(Σ g)|| in the coefficient domain, Q(Σ g) = Uᵀ(Σ g − μ).
  arma::mat sumOfCoeff(basis.d, state->layout.slices, arma::fill::zeros);
  arma::mat centered(state->layout.k, state->layout.slices, arma::fill::zeros);
  double localError = 0.0, localNorm = 0.0;
  for (std::size_t w = 0; w < truth.size(); ++w) {
    sumOfCoeff += Coefficients(truth[w], *state, ctx);
    centered += ToSlices(truth[w].memptr(), *ctx.layer, state->layout);
    localError += arma::accu(arma::square(arma::conv_to<arma::vec>::from(decoded.workers[w]) -
                                          arma::conv_to<arma::vec>::from(truth[w])));
    localNorm += arma::accu(arma::square(arma::conv_to<arma::vec>::from(truth[w])));
  }
  centered.each_col() -= basis.mu;
  const arma::mat direct = basis.u.t() * centered;
  const double norm = arma::norm(direct, "fro");
  (*stats)["commute_residual"] = norm > 0 ? arma::norm(sumOfCoeff - direct, "fro") / norm : 0.0;
  // Local loss of eq. (7) over the workers, and the centered energy the sum lost on this record
  // (the quantity eq. (6) bounds by lambda on the fit samples only).
  (*stats)["local_nmse"] = localNorm > 0 ? localError / localNorm : 0.0;
  const arma::mat lost = centered - basis.u * direct;
  const double centeredNorm = RealSquaredNorm(centered, n);
  (*stats)["lost_energy"] = centeredNorm > 0 ? RealSquaredNorm(lost, n) / centeredNorm : 0.0;
}

}  // namespace gradquant
