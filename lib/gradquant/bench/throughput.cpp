#include "gradquant/bench/throughput.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include "gradquant/pipeline/round.hpp"

namespace gradquant {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

double MeasureReadBandwidth(std::size_t bytes, int repeats) {
  const std::size_t n = bytes / sizeof(std::uint64_t);
  std::vector<std::uint64_t> buffer(n);
  for (std::size_t i = 0; i < n; ++i) buffer[i] = i;  // touch every page before timing
  std::vector<double> times;
  volatile std::uint64_t sink = 0;
  for (int r = 0; r <= repeats; ++r) {
    const auto t0 = Clock::now();
    // Four independent sums keep the loop bound by memory, not by the add latency.
    std::uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::size_t i = 0; i + 3 < n; i += 4) {
      s0 += buffer[i];
      s1 += buffer[i + 1];
      s2 += buffer[i + 2];
      s3 += buffer[i + 3];
    }
    const auto t1 = Clock::now();
    sink = sink + s0 + s1 + s2 + s3;
    if (r > 0) times.push_back(Seconds(t0, t1));  // run 0 is the warm-up
  }
  return static_cast<double>(n * sizeof(std::uint64_t)) / Median(times) / 1e9;
}

Throughput MeasureThroughput(const Quantizer& quantizer, const LayerInfo& layer,
                             const std::vector<arma::fvec>& slabs, int repeats, bool cpuTime) {
  const ItemTruth truth(slabs);
  std::unique_ptr<LayerState> state = quantizer.NewLayerState(layer);
  const SlabContext ctx = ItemContext(layer, /*seed=*/1, /*step=*/0, slabs.size(), state.get());
  RoundParts warmUp;
  warmUp.stats = warmUp.theory = warmUp.errors = false;
  for (int warm = 0; warm < 2 && state; ++warm) RunRound(quantizer, truth, ctx, warmUp);
  // The timed rounds encode and decode only, at the steady state the warm-up reached.
  RoundParts timed = warmUp;
  timed.observe = false;
  std::vector<double> enc, dec;
  std::uint64_t bits = 0;
  for (int r = 0; r <= repeats; ++r) {
    const Round round = RunRound(quantizer, truth, ctx, timed);
    if (r == 0) {
      bits = round.Bits();
      continue;
    }
    enc.push_back(cpuTime ? round.encodeCpuSeconds : round.encodeSeconds);
    dec.push_back(cpuTime ? round.decodeCpuSeconds : round.decodeSeconds);
  }
  Throughput t;
  t.bytes = 4.0 * static_cast<double>(layer.n) * static_cast<double>(slabs.size());
  t.encodeSeconds = Median(enc);
  t.decodeSeconds = Median(dec);
  t.bits = static_cast<double>(bits);
  return t;
}

}  // namespace gradquant
