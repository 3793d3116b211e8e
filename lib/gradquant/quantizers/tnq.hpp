#pragma once
/**
 * @file tnq.hpp
 * `tnq`: truncated non-uniform quantization (TNQSGD).
 *
 * G. Yan, T. Li, Y. Xiao, C. Li, L. Song, "Truncated Non-Uniform Quantization for Distributed
 * SGD", arXiv:2402.01160, 2024; docs/quantizers.md#tnq (objective and levels reconstructed there,
 * see stats/tnq_theory.hpp).
 *
 * Per bucket: γ̂ = mean |g_i| (the Laplace MLE), rounded to float32; encoder and decoder both
 * use the rounded value (lock-step). Threshold α = 3γ̂·ln(1 + s/a), a = 3√6/2 (`alpha=auto`),
 * or the given absolute α. Levels ℓ_0 = −α < … < ℓ_s = α (s = 2^bits − 1): companded
 * (`levels=laplace`, λ ∝ p^{1/3}, the closed form at α* or the general form otherwise) or
 * equally spaced (`levels=uniform`); with `alpha=auto` and uniform levels α is still the
 * companded α*. Each coordinate is clipped, t_i = clamp(g_i, −α, α), and rounded stochastically:
 * j = the largest index with ℓ_j ≤ t_i (at most s−1), symbol j + [U_i < (t_i − ℓ_j)/(ℓ_{j+1} −
 * ℓ_j)] with U_i from the kRounding stream; decoded as ℓ_symbol. So E[Q | t] = t and TNQ is
 * biased by T(g) − g; for a fixed slab
 * \f[ E\|Q(T(g)) − g\|^2 = \sum_i (t_i − g_i)^2 + \sum_i (ℓ_{j+1} − t_i)(t_i − ℓ_j), \f]
 * the value ExpectedError reports as exact.
 *
 * Bit layout, per bucket in order: γ̂ as float32 (32 bits; sent in every mode, also with a
 * numeric α, to keep one layout), then b symbols in `bits` bits each. Total per bucket:
 * 32 + b·bits. γ̂ = 0 marks an all-zero bucket (symbols all 0), decoded as exact zeros.
 */
#include <cstdint>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/**
 * Clips g to [levels.front(), levels.back()] and rounds each value stochastically onto the
 * adjacent levels with U_i = rng.Uniform(first + i) (see the file comment).
 * @param levels s+1 non-decreasing levels, s >= 1.
 * @param symbols n outputs in {0..s}.
 * @return the number of coordinates with |g_i| beyond the end levels (clipped).
 */
std::size_t TnqSymbols(const float* g, std::size_t n, const std::vector<double>& levels,
                       const Rng& rng, std::uint64_t first, std::uint32_t* symbols);

/** Truncated non-uniform stochastic quantizer. */
class TnqQuantizer : public IndependentQuantizer {
 public:
  /** Reads bits, alpha, levels and bucket. @throws SpecError */
  explicit TnqQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  /** Adds gamma, alpha (means over buckets), trunc_frac and bits_entropy. */
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  /** Rebuilds the levels from each bucket's γ̂ and maps the symbols. @throws FormatError */
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  /** The exact E||Q(T(g)) − g||² for this slab, with the γ̂ the encoder would send. */
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

  /** The levels both sides use for a bucket with transmitted scale @p gamma > 0. */
  std::vector<double> Levels(float gamma) const;

 private:
  /** The float32 value of every symbol for a bucket with scale @p gamma > 0. */
  std::vector<float> ValueTable(float gamma) const;

  std::string spec_;
  std::uint32_t bits_;
  std::uint32_t s_;
  double alpha_;  // NaN = auto
  bool laplace_;
  std::size_t bucket_;
};

}  // namespace gradquant
