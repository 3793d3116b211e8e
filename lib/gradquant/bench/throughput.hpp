#pragma once
/**
 * @file throughput.hpp
 * Measurements behind `gradquant bench`: the machine's single-core memory read bandwidth (the
 * reference every quantizer is held against) and a quantizer's encode and decode throughput in
 * GB/s of float32 input (median of repeated runs after a warm-up).
 */
#include <armadillo>
#include <cstddef>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"
#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/**
 * Single-core read bandwidth in GB/s: the median over @p repeats of summing a buffer of
 * @p bytes (far larger than the caches) with a vectorisable loop.
 */
double MeasureReadBandwidth(std::size_t bytes, int repeats);

/** Throughput of one quantizer on one group of slabs. */
struct Throughput {
  double bytes = 0;          ///< float32 input bytes of all workers
  double encodeSeconds = 0;  ///< median EncodeGroup time
  double decodeSeconds = 0;  ///< median DecodeGroup time
  double bits = 0;           ///< exact bits of all messages

  double EncodeGbps() const { return bytes / encodeSeconds / 1e9; }
  double DecodeGbps() const { return bytes / decodeSeconds / 1e9; }
  /** Sums another measurement (several layers as one run). */
  void Add(const Throughput& o) {
    bytes += o.bytes;
    encodeSeconds += o.encodeSeconds;
    decodeSeconds += o.decodeSeconds;
    bits += o.bits;
  }
};

/**
 * Times EncodeGroup and DecodeGroup of @p quantizer on @p slabs (one per worker) of @p layer:
 * one warm-up, then the median of @p repeats runs each. A stateful method first sees two
 * records (encode, decode, Observe), so its steady state is what is timed.
 * @param cpuTime time with the calling thread's CPU clock instead of the wall clock: on a
 *        machine shared with other jobs it counts only this thread's work (one thread only).
 */
Throughput MeasureThroughput(const Quantizer& quantizer, const LayerInfo& layer,
                             const std::vector<arma::fvec>& slabs, int repeats,
                             bool cpuTime = false);

}  // namespace gradquant
