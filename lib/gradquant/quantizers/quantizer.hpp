#pragma once
/**
 * @file quantizer.hpp
 * The interface every gradient quantizer implements.
 *
 * The contract:
 * 1. **Every bit counts.** A message carries everything the decoder needs beyond what is shared
 *    out of band: the canonical spec, the layer's shape, the number of workers, the seed and
 *    step, and the side information a method declares (the state derived from earlier decoded
 *    records, see LayerState). Headers, scales, counts and padding are all in Message::bits.
 * 2. **No hidden state.** Methods are const and deterministic; cross-record state lives in a
 *    caller-owned LayerState that both sides derive from decoded data only.
 * 3. **Lock-step rounding.** A data-dependent scalar the decoder needs (a norm, a scale) is
 *    rounded to its transmitted precision first, and the encoder then uses the rounded value.
 * 4. **Randomness** comes only from Rng (random/rng.hpp), keyed by the context.
 * 5. The virtual call happens once per slab; per-coordinate loops are free functions.
 */
#include <armadillo>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gradquant/coding/message.hpp"
#include "gradquant/core/layer_info.hpp"
#include "gradquant/random/rng.hpp"
#include "gradquant/stats/slab_mean.hpp"

namespace gradquant {

/** Per-method numbers for reports (e.g. "overload_frac", "gamma"), one value per slab. */
using SlabStats = std::map<std::string, double>;

/** Cross-record state of one layer, derived from decoded data only (e.g. a fitted basis). */
class LayerState {
 public:
  virtual ~LayerState() = default;
};

/** Where a slab sits: the layer, the record's step, the worker, the run's seed. */
struct SlabContext {
  const LayerInfo* layer = nullptr;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::uint32_t worker = 0;   ///< ignored by group calls
  std::uint32_t workers = 1;  ///< W, the size of the group this slab belongs to
  LayerState* state = nullptr;

  /** The random-stream key of this slab. */
  StreamKey Key() const { return {seed, step, worker, layer->index}; }
  /** The same context for worker @p w. */
  SlabContext ForWorker(std::uint32_t w) const {
    SlabContext c = *this;
    c.worker = w;
    return c;
  }
};

/** What the server makes of one (record, layer): every worker's reconstruction and the mean. */
struct GroupResult {
  std::vector<arma::fvec> workers;  ///< worker w's reconstruction Q(g_w)
  arma::fvec aggregate;             ///< the server's estimate of the workers' mean
  std::uint64_t downlinkBits = 0;   ///< bits of the server's reply to the workers
  SlabStats stats;                  ///< method-specific numbers (overload, votes, ...)
};

/**
 * Theory for E||Q(g) - g||^2 at a fixed slab g (NaN = not given): the exact value, an upper
 * bound (the papers' guarantees), a lower bound (a floor no method of the family can beat,
 * e.g. Eckart–Young for low-rank methods), or an approximation (a model's value that is
 * neither exact nor proven either way, e.g. DRIVE's Gaussian limit for a Hadamard rotation).
 */
struct Theory {
  double exact = std::numeric_limits<double>::quiet_NaN();
  double bound = std::numeric_limits<double>::quiet_NaN();
  double lowerBound = std::numeric_limits<double>::quiet_NaN();
  double approx = std::numeric_limits<double>::quiet_NaN();

  /**
   * The exact value where known, else the upper bound, else the lower bound, else the
   * approximation (NaN if none).
   */
  double Value() const {
    if (!std::isnan(exact)) return exact;
    if (!std::isnan(bound)) return bound;
    return std::isnan(lowerBound) ? approx : lowerBound;
  }
  /** "exact", "bound", "lower_bound", "approx" or "none", matching Value(). */
  const char* Kind() const;
};

/**
 * The kind of a sum of theory values of kinds @p a and @p b (exact, bound, lower_bound, approx,
 * none): exact + X is X; any other mix (an upper bound plus a lower bound, an approximation
 * plus a bound), or anything plus none, is none. An empty @p a (nothing summed yet) gives @p b.
 */
std::string CombineTheoryKinds(const std::string& a, const std::string& b);

/** A gradient quantizer; see the file comment for the contract. */
class Quantizer {
 public:
  virtual ~Quantizer() = default;

  /** Canonical spec, e.g. "qsgd:bucket=0,coding=elias,norm=l2,s=4"; parses back to this. */
  virtual std::string Spec() const = 0;

  /**
   * Encodes one worker's slab.
   * @param g the slab, n = ctx.layer->n values.
   * @param stats where the method may add per-slab numbers (may be null).
   */
  virtual Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const = 0;

  /**
   * Encodes every worker of one (record, layer). Methods whose protocol needs a round trip
   * through the server (PowerSGD) override this; the default encodes each worker on its own.
   */
  virtual std::vector<Message> EncodeGroup(const std::vector<arma::fvec>& slabs,
                                           const SlabContext& ctx, SlabStats* stats) const;

  /**
   * The server's side: decodes the messages of every worker from their bytes alone (plus the
   * context) and forms the aggregate. @throws FormatError on a corrupt message.
   */
  virtual GroupResult DecodeGroup(const std::vector<Message>& messages,
                                  const SlabContext& ctx) const = 0;

  /** Theory for a fixed slab g (exact value and/or bound); NaN where the method has none. */
  virtual Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const;

  /**
   * Adds diagnostics that need the true gradients, which neither side of a real system has
   * (e.g. NDQSG's measured overload, S3GD-MV's vote coverage). Called by the tools after
   * DecodeGroup with the workers' true slabs. The default adds nothing.
   */
  virtual void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                        const SlabContext& ctx, SlabStats* stats) const;

  /**
   * True when the output is a direction without magnitude (sign vectors, votes). Error metrics
   * then use the best scalar fit c* = <o, g>/||o||^2 (docs/quantizers.md#best-scalar-fit):
   * ||c* o - g||^2 = ||g||^2 - <o, g>^2/||o||^2.
   */
  virtual bool SignOutput() const { return false; }

  /**
   * True when EncodeGroup is more than each worker's Encode: the workers need a value from the
   * server between two sends (PowerSGD's P̂, TernGrad's shared maximum). A deployment with one
   * message per worker and step (a DDP rank, LayerChain::EncodeWorker) cannot run it.
   */
  virtual bool NeedsRoundTrip() const { return false; }

  /** A fresh state for a layer, or null for stateless methods. */
  virtual std::unique_ptr<LayerState> NewLayerState(const LayerInfo& layer) const;

  /** Updates @p state after record @p ctx.step was decoded. */
  virtual void Observe(LayerState& state, const GroupResult& decoded, const SlabContext& ctx) const;
};

/**
 * Base of methods whose workers decode independently and whose server takes the plain mean of
 * the reconstructions (downlink: the mean as float32).
 */
class IndependentQuantizer : public Quantizer {
 public:
  /** Decodes one worker's message. @throws FormatError */
  virtual arma::fvec Decode(const Message& message, const SlabContext& ctx) const = 0;

  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
};

/** "<spec> <layer> step <s> worker <w>", the name of a message in error texts. */
std::string MessageName(const std::string& spec, const SlabContext& ctx);

}  // namespace gradquant
