#include "gradquant/pipeline/round.hpp"

#include <chrono>
#include <ctime>
#include <utility>

#include "gradquant/core/error.hpp"
#include "gradquant/core/finite.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/error_metrics.hpp"
#include "gradquant/stats/slab_mean.hpp"

namespace gradquant {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Seconds of CPU the calling thread has used: on a shared machine it counts only this work.
double ThreadSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

void CheckSizes(const Quantizer& q, const GroupResult& decoded, std::size_t workers,
                std::size_t n) {
  bool ok = decoded.workers.size() == workers && decoded.aggregate.n_elem == n;
  for (const auto& w : decoded.workers) ok = ok && w.n_elem == n;
  if (!ok) throw Error(q.Spec() + ": DecodeGroup returned the wrong number or size of slabs");
}

std::string OutOfRange(const Quantizer& q, const SlabContext& ctx, const std::string& what) {
  return q.Spec() + ": layer " + ctx.layer->name + " step " + std::to_string(ctx.step) + ": " +
         what + "; the gradient's values are too large for its float32 fields";
}

// A reconstruction with Inf or NaN from finite input would be a silently wrong number.
void RequireFinite(const Quantizer& q, const SlabContext& ctx, const GroupResult& decoded) {
  for (std::size_t w = 0; w < decoded.workers.size(); ++w) {
    if (!AllFinite(decoded.workers[w].memptr(), decoded.workers[w].n_elem)) {
      throw RangeError(
          OutOfRange(q, ctx, "worker " + std::to_string(w) + "'s reconstruction overflows"));
    }
  }
  if (!AllFinite(decoded.aggregate.memptr(), decoded.aggregate.n_elem)) {
    throw RangeError(OutOfRange(q, ctx, "the aggregate overflows"));
  }
}

}  // namespace

SlabContext ItemContext(const LayerInfo& layer, std::uint64_t seed, std::uint64_t step,
                        std::size_t workers, LayerState* state) {
  SlabContext ctx;
  ctx.layer = &layer;
  ctx.seed = seed;
  ctx.step = step;
  ctx.workers = static_cast<std::uint32_t>(workers);
  ctx.state = state;
  return ctx;
}

ItemTruth::ItemTruth(std::vector<arma::fvec> g) : slabs(std::move(g)), normSq(slabs.size()) {
  ParallelFor(slabs.size(), [&](std::size_t w) { normSq[w] = SquaredNorm(slabs[w]); });
  mean = MeanOf(slabs);
  meanNormSq = SquaredNorm(mean);
}

double ItemTruth::NormSq() const {
  double sum = 0.0;
  for (double v : normSq) sum += v;
  return sum;
}

std::uint64_t Round::Bits() const {
  std::uint64_t bits = 0;
  for (const Message& m : messages) bits += m.bits;
  return bits;
}

double Round::ErrorSq() const {
  double sum = 0.0;
  for (double v : errorSq) sum += v;
  return sum;
}

Round RunRound(const Quantizer& q, const ItemTruth& truth, const SlabContext& ctx,
               const RoundParts& parts, FeedbackMemory* feedback) {
  const std::size_t workers = truth.slabs.size();
  // What the workers compress: their gradients, or those plus their memories.
  std::vector<arma::fvec> fed;
  if (feedback && feedback->Mode() != Feedback::kNone) fed = feedback->Inputs(truth.slabs);
  const std::vector<arma::fvec>& inputs = fed.empty() ? truth.slabs : fed;
  Round out;
  if (fed.empty()) {
    out.inputNormSq = truth.normSq;
  } else {
    out.inputNormSq.resize(workers);
    ParallelFor(workers, [&](std::size_t w) { out.inputNormSq[w] = SquaredNorm(inputs[w]); });
  }
  const double residualSq = feedback ? feedback->ResidualSq(inputs) : 0.0;

  const auto t0 = Clock::now();
  const double c0 = ThreadSeconds();
  out.messages = q.EncodeGroup(inputs, ctx, parts.stats ? &out.stats : nullptr);
  const auto t1 = Clock::now();
  const double c1 = ThreadSeconds();
  try {
    out.decoded = q.DecodeGroup(out.messages, ctx);
  } catch (const FormatError& e) {
    // Fresh messages are never corrupt: the encoder wrote a field it cannot carry (an Inf norm).
    throw RangeError(
        OutOfRange(q, ctx, std::string("its own message does not decode (") + e.what() + ")"));
  }
  const auto t2 = Clock::now();
  const double c2 = ThreadSeconds();
  out.encodeSeconds = Seconds(t0, t1);
  out.decodeSeconds = Seconds(t1, t2);
  out.encodeCpuSeconds = c1 - c0;
  out.decodeCpuSeconds = c2 - c1;
  CheckSizes(q, out.decoded, workers, ctx.layer->n);
  RequireFinite(q, ctx, out.decoded);
  if (parts.stats) {
    q.Diagnose(inputs, out.decoded, ctx, &out.stats);
    for (const auto& [key, value] : out.decoded.stats) out.stats[key] += value;
  }
  if (parts.theory) out.theory.resize(workers);
  if (parts.errors) out.errorSq.resize(workers);
  const bool signOutput = q.SignOutput();
  if (parts.theory || parts.errors) {
    ParallelFor(workers, [&](std::size_t w) {
      if (parts.theory) {
        out.theory[w] = q.ExpectedError(inputs[w], ctx.ForWorker(static_cast<std::uint32_t>(w)));
      }
      if (parts.errors) out.errorSq[w] = FitErrorSq(out.decoded.workers[w], inputs[w], signOutput);
    });
  }
  // The state moves on only after everything about this record used the state it was
  // encoded with.
  if (parts.observe && ctx.state) q.Observe(*ctx.state, out.decoded, ctx);
  if (feedback) {
    feedback->UpdateWorkers(inputs, out.decoded);
    feedback->UpdateServer(out.decoded);
    out.feedback = feedback->Account(out.decoded.aggregate, truth.mean, residualSq);
  }
  if (parts.errors) out.aggErrorSq = FitErrorSq(out.decoded.aggregate, truth.mean, signOutput);
  out.inputs = std::move(fed);
  return out;
}

GroupResult DecodeRound(const Quantizer& q, const std::vector<Message>& messages,
                        const SlabContext& ctx, FeedbackMemory* feedback) {
  GroupResult decoded = q.DecodeGroup(messages, ctx);
  CheckSizes(q, decoded, messages.size(), ctx.layer->n);
  if (ctx.state) q.Observe(*ctx.state, decoded, ctx);
  if (feedback) feedback->UpdateServer(decoded);
  return decoded;
}

}  // namespace gradquant
