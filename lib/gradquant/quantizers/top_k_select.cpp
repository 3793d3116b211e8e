#include "gradquant/quantizers/top_k_select.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "gradquant/core/cpu.hpp"
#include "gradquant/core/float_bits.hpp"
#include "gradquant/core/parallel.hpp"

namespace gradquant {
namespace {

// Selection by the bits of |g_i|: for finite floats, |a| < |b| exactly when the 31-bit
// patterns of |a| and |b| compare so. A histogram of the top kBinBits of those patterns finds
// the bin holding the K-th largest; only that bin's entries are sorted out exactly.
constexpr int kBinBits = 11;
constexpr int kShift = 31 - kBinBits;
constexpr std::size_t kBins = std::size_t{1} << kBinBits;
constexpr std::size_t kChunk = std::size_t{1} << 20;  // coordinates per parallel chunk

std::uint32_t Key(float x) {
  return FloatBits(x) & 0x7FFFFFFFu;  // |x|; 0 for ±0
}

std::size_t Chunks(std::size_t n) { return (n + kChunk - 1) / kChunk; }

// Histogram of the nonzero keys' bins over [b, e), four interleaved tables (no store chains).
void Histogram(const float* g, std::size_t b, std::size_t e, std::uint32_t* bins) {
  std::uint32_t table[4][kBins] = {};
  std::uint32_t zeros = 0;
  std::size_t i = b;
  for (; i + 4 <= e; i += 4) {
    for (std::size_t j = 0; j < 4; ++j) {
      const std::uint32_t key = Key(g[i + j]);
      ++table[j][key >> kShift];
      zeros += key == 0;
    }
  }
  for (; i < e; ++i) {
    const std::uint32_t key = Key(g[i]);
    ++table[0][key >> kShift];
    zeros += key == 0;
  }
  for (std::size_t k = 0; k < kBins; ++k)
    bins[k] = table[0][k] + table[1][k] + table[2][k] + table[3][k];
  bins[0] -= zeros;  // zeros are never candidates
}

// Calls f(i) for every i in [b, e) whose key k satisfies lo < k, or k == lo and i <= lastTie,
// or (when lo is kNoLow) hi_bin(k) == bin && k != 0 — the two scans of the selection. Eight
// keys at a time, so the rare matches cost a branch each and the rest almost nothing.
struct Scan {
  static constexpr std::uint32_t kAbsMask = 0x7FFFFFFFu;
  bool edge;            // true: bin members; false: above the threshold
  std::uint32_t bin;    // edge scan
  std::uint32_t t;      // threshold scan
  std::size_t lastTie;  // threshold scan
  bool Match(std::uint32_t key, std::size_t i) const {
    return edge ? key != 0 && (key >> kShift) == bin : key > t || (key == t && i <= lastTie);
  }
};

// Bit j set when the key of g[i + j] may match (edge: its bin; threshold: key >= t).
__attribute__((target("avx2"))) unsigned Candidates8(const float* g, const Scan& s) {
  const __m256i key = _mm256_and_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(g)),
                                       _mm256_set1_epi32(static_cast<int>(Scan::kAbsMask)));
  __m256i hit;
  if (s.edge) {
    hit = _mm256_cmpeq_epi32(_mm256_srli_epi32(key, kShift),
                             _mm256_set1_epi32(static_cast<int>(s.bin)));
  } else {  // key >= t, as key > t - 1 (keys and t are below 2^31: signed compares work)
    hit = _mm256_cmpgt_epi32(key, _mm256_set1_epi32(static_cast<int>(s.t) - 1));
  }
  return static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(hit)));
}

template <class F>
__attribute__((target("avx2"))) std::size_t ScanAvx2(const float* g, std::size_t b, std::size_t e,
                                                     const Scan& s, F&& f) {
  std::size_t i = b;
  for (; i + 8 <= e; i += 8) {
    unsigned mask = Candidates8(g + i, s);
    while (mask) {
      const std::size_t j = i + static_cast<std::size_t>(__builtin_ctz(mask));
      if (s.Match(Key(g[j]), j)) f(j);
      mask &= mask - 1;
    }
  }
  return i;
}

template <class F>
void ForEachMatch(const float* g, std::size_t b, std::size_t e, const Scan& s, F&& f) {
  std::size_t i = b;
  if (UseAvx2()) i = ScanAvx2(g, b, e, s, f);
  for (; i < e; ++i) {
    if (s.Match(Key(g[i]), i)) f(i);
  }
}

// Every nonzero index, in order: a branch-free compaction.
std::vector<std::size_t> Nonzeros(const float* g, std::size_t n) {
  std::vector<std::size_t> out(n);
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    out[m] = i;
    m += g[i] != 0.0f ? 1 : 0;
  }
  out.resize(m);
  return out;
}

}  // namespace

std::vector<std::size_t> TopKIndices(const float* g, std::size_t n, std::size_t k) {
  std::vector<std::size_t> out;
  if (k == 0) return out;
  const std::size_t chunks = Chunks(n);
  std::vector<std::vector<std::size_t>> parts(chunks);
  if (k >= n) return Nonzeros(g, n);
  std::vector<std::vector<std::uint32_t>> hist(chunks, std::vector<std::uint32_t>(kBins));
  SplitFor(chunks, [&](std::size_t c) {
    Histogram(g, c * kChunk, std::min(n, (c + 1) * kChunk), hist[c].data());
  });
  std::vector<std::uint64_t> bins(kBins, 0);
  std::uint64_t nonzero = 0;
  for (const auto& h : hist) {
    for (std::size_t b = 0; b < kBins; ++b) bins[b] += h[b];
  }
  for (std::uint64_t c : bins) nonzero += c;

  if (k >= nonzero) return Nonzeros(g, n);
  // The bin of the K-th largest key, and how many come from bins above it.
  std::size_t bin = kBins;
  std::uint64_t above = 0;
  while (above + bins[bin - 1] < k) above += bins[--bin];
  --bin;
  // That bin's entries as (key, index), ordered largest key first, then lower index: the
  // (k - above)-th of them is the last one selected.
  std::vector<std::vector<std::pair<std::uint32_t, std::size_t>>> edges(chunks);
  Scan edgeScan{true, static_cast<std::uint32_t>(bin), 0, 0};
  SplitFor(chunks, [&](std::size_t c) {
    ForEachMatch(g, c * kChunk, std::min(n, (c + 1) * kChunk), edgeScan,
                 [&](std::size_t i) { edges[c].emplace_back(Key(g[i]), i); });
  });
  std::vector<std::pair<std::uint32_t, std::size_t>> edge;
  edge.reserve(bins[bin]);
  for (const auto& e : edges) edge.insert(edge.end(), e.begin(), e.end());
  const auto before = [](const std::pair<std::uint32_t, std::size_t>& a,
                         const std::pair<std::uint32_t, std::size_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  const auto nth = edge.begin() + static_cast<std::ptrdiff_t>(k - above - 1);
  std::nth_element(edge.begin(), nth, edge.end(), before);
  // Selected: key above the threshold, or equal to it up to the last selected index.
  const Scan threshold{false, 0, nth->first, nth->second};
  SplitFor(chunks, [&](std::size_t c) {
    ForEachMatch(g, c * kChunk, std::min(n, (c + 1) * kChunk), threshold,
                 [&](std::size_t i) { parts[c].push_back(i); });
  });
  out.reserve(k);
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace gradquant
