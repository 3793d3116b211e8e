#pragma once
/**
 * @file fp32.hpp
 * `fp32`: the identity, the reference every ratio is measured against.
 * Bit layout: the n values as IEEE binary32, 32n bits.
 */
#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** Writes @p n float32 patterns, a word at a time (as n PutFloat32 calls). */
void PutFloat32s(BitWriter& w, const float* values, std::size_t n);

/** Reads @p n float32 patterns (as n GetFloat32 calls, the same error on a short message). */
void GetFloat32s(BitReader& r, float* values, std::size_t n);

/** Sends every coordinate as a float32. */
class Fp32Quantizer : public IndependentQuantizer {
 public:
  explicit Fp32Quantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  arma::fvec Decode(const Message& message, const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;

 private:
  std::string spec_;
};

}  // namespace gradquant
