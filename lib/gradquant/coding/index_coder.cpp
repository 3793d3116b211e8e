#include "gradquant/coding/index_coder.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "gradquant/coding/codes.hpp"

namespace gradquant {
namespace {

std::uint64_t RiceLength(std::uint64_t gap, int b) { return ((gap - 1) >> b) + 1 + b; }

void PutRice(BitWriter& w, std::uint64_t gap, int b) {
  const std::uint64_t v = gap - 1;
  for (std::uint64_t q = v >> b; q > 0; --q) w.PutBit(false);
  w.PutBit(true);
  w.Put(v, b);
}

std::uint64_t GetRice(BitReader& r, int b, std::uint64_t maxQuotient) {
  std::uint64_t q = 0;
  while (!r.GetBit()) {
    if (++q > maxQuotient) r.Fail("Rice quotient longer than any gap can need");
  }
  return ((q << b) | r.Get(b)) + 1;
}

}  // namespace

int RiceParameter(std::uint64_t n, std::uint64_t count) {
  if (count == 0 || n < count) return 0;
  return BitLength(n / count) - 1;
}

void PutIndexSet(BitWriter& w, const std::vector<std::size_t>& sorted, std::uint64_t n,
                 IndexCode code) {
  PutGamma(w, sorted.size() + 1);
  const int b = RiceParameter(n, sorted.size());
  std::uint64_t next = 0;  // one past the previous index
  if (code == IndexCode::kGamma) {
    LocalBits bits(w);
    for (std::size_t idx : sorted) {
      const std::uint64_t gap = idx + 1 - next;
      const int len = 64 - __builtin_clzll(gap);
      if (len <= 32) {
        bits.Put(gap, 2 * len - 1);  // PutGamma: len - 1 zeros, then gap, in one field
      } else {
        bits.Flush();
        PutGamma(w, gap);
      }
      next = idx + 1;
    }
    return;
  }
  for (std::size_t idx : sorted) {
    PutRice(w, idx + 1 - next, b);
    next = idx + 1;
  }
}

std::vector<std::size_t> GetIndexSet(BitReader& r, std::uint64_t n, std::uint64_t maxCount,
                                     IndexCode code) {
  const std::uint64_t count = GetGamma(r) - 1;
  if (count > maxCount || count > n) {
    r.Fail("index set declares " + std::to_string(count) + " indices (at most " +
           std::to_string(std::min(maxCount, n)) + " allowed)");
  }
  const int b = RiceParameter(n, count);
  const std::uint64_t maxQuotient = n ? (n - 1) >> b : 0;
  std::vector<std::size_t> out(count);
  std::uint64_t next = 0;
  auto take = [&](std::uint64_t j, std::uint64_t gap) {
    if (gap > n - next) r.Fail("index past the end of the slab (n = " + std::to_string(n) + ")");
    next += gap;
    out[j] = static_cast<std::size_t>(next - 1);
  };
  for (std::uint64_t j = 0; j < count;) {
    if (code == IndexCode::kGamma) {
      // Every gamma code that lies whole inside the next 57 bits, without a call each; the
      // checks are the same, in the same order.
      const std::uint64_t window = r.Window();
      const int avail = static_cast<int>(std::min<std::uint64_t>(57, r.Remaining()));
      int used = 0;
      while (j < count) {
        const std::uint64_t rest = window << used;
        if (rest == 0) break;
        const int len = 2 * __builtin_clzll(rest) + 1;
        if (used + len > avail) break;
        const std::uint64_t gap = rest >> (64 - len);
        used += len;
        take(j++, gap);
      }
      r.Skip(static_cast<std::uint64_t>(used));
      if (used > 0) continue;
    }
    take(j, code == IndexCode::kGamma ? GetGamma(r) : GetRice(r, b, maxQuotient));
    ++j;
  }
  return out;
}

std::uint64_t IndexSetBits(const std::vector<std::size_t>& sorted, std::uint64_t n,
                           IndexCode code) {
  std::uint64_t bits = static_cast<std::uint64_t>(GammaLength(sorted.size() + 1));
  const int b = RiceParameter(n, sorted.size());
  std::uint64_t next = 0;
  for (std::size_t idx : sorted) {
    const std::uint64_t gap = idx + 1 - next;
    bits += code == IndexCode::kGamma ? static_cast<std::uint64_t>(GammaLength(gap))
                                      : RiceLength(gap, b);
    next = idx + 1;
  }
  return bits;
}

double IdealIndexBits(std::uint64_t n, std::uint64_t k) {
  if (k == 0 || k >= n) return 0.0;
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  return (std::lgamma(nd + 1) - std::lgamma(kd + 1) - std::lgamma(nd - kd + 1)) / std::log(2.0);
}

std::uint64_t NaiveIndexBits(std::uint64_t n, std::uint64_t k) {
  return k * static_cast<std::uint64_t>(CeilLog2(n));
}

}  // namespace gradquant
