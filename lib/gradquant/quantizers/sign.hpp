#pragma once
/**
 * @file sign.hpp
 * `sign`: signSGD with majority vote.
 *
 * J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, "signSGD: Compressed
 * Optimisation for Non-Convex Problems", ICML 2018 (arXiv:1802.04434); J. Bernstein, J. Zhao,
 * K. Azizzadenesheli, A. Anandkumar, "signSGD with Majority Vote is Communication Efficient
 * and Fault Tolerant", ICLR 2019 (arXiv:1810.05291); docs/quantizers.md#sign.
 *
 * Worker: sign(g_i) ∈ {−1, +1} with sign(0) = +1, no scale. Server:
 * \f$o_i = \mathrm{sgn}_0(\sum_n \mathrm{sign}(g_{n,i}))\f$; a tie (possible only for an even
 * number of workers) gives 0 (`ties=zero`, default) or +1 (`ties=one`, keeping the downlink at
 * one bit per coordinate). Reported as `tie_frac`, the fraction of tied coordinates.
 *
 * The output is a direction (SignOutput() is true): errors are those of the best scalar fit
 * c* = ⟨o, g⟩/‖o‖² (docs/quantizers.md#best-scalar-fit). For one worker's ±1 vector this is the
 * exact, deterministic \f$\|g\|^2 − \|g\|_1^2/D\f$, which ExpectedError() returns.
 *
 * Bit layout (uplink): D bits in flat index order, 1 = negative (g_i < 0), 0 = non-negative.
 * Downlink: with ties=one, o in D bits the same way; with ties=zero, o is ternary and is sent
 * as 5 trits per byte (coding/trits.hpp, base3): 8⌈D/5⌉ bits, realizable and counted exactly.
 */
#include <cstddef>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** signSGD: one bit per coordinate, majority vote at the server. */
class SignQuantizer : public Quantizer {
 public:
  explicit SignQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  bool SignOutput() const override { return true; }

  /** Decodes one worker's ±1 vector. @throws FormatError */
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const;

 private:
  std::string spec_;
  bool tiesToOne_;
};

}  // namespace gradquant
