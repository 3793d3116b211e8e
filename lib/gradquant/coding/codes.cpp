#include "gradquant/coding/codes.hpp"

#include <cassert>

namespace gradquant {

int BitLength(std::uint64_t n) { return n == 0 ? 0 : 64 - __builtin_clzll(n); }

int CeilLog2(std::uint64_t count) { return count <= 1 ? 0 : BitLength(count - 1); }

void PutGamma(BitWriter& w, std::uint64_t n) {
  assert(n >= 1);
  const int len = BitLength(n);
  if (len <= 32) {  // len - 1 zeros then n: n itself in 2 len - 1 bits
    w.Put(n, 2 * len - 1);
    return;
  }
  w.Put(0, len - 1);
  w.Put(n, len);
}

std::uint64_t GetGamma(BitReader& r) {
  // Fast path: the whole code inside the next 57 bits of the message.
  const std::uint64_t window = r.Window();
  if (window != 0) {
    const int length = 2 * __builtin_clzll(window) + 1;
    if (length <= 57 && static_cast<std::uint64_t>(length) <= r.Remaining()) {
      r.Skip(static_cast<std::uint64_t>(length));
      return window >> (64 - length);
    }
  }
  int zeros = 0;
  while (!r.GetBit()) {
    if (++zeros > 63) r.Fail("Elias-gamma code longer than 64 bits");
  }
  return (std::uint64_t{1} << zeros) | r.Get(zeros);
}

int GammaLength(std::uint64_t n) { return 2 * BitLength(n) - 1; }

void PutDelta(BitWriter& w, std::uint64_t n) {
  assert(n >= 1);
  const int len = BitLength(n);
  PutGamma(w, static_cast<std::uint64_t>(len));
  w.Put(n, len - 1);
}

std::uint64_t GetDelta(BitReader& r) {
  const std::uint64_t len = GetGamma(r);
  if (len > 64) r.Fail("Elias-delta code for a value over 64 bits");
  const int low = static_cast<int>(len) - 1;
  return (std::uint64_t{1} << low) | r.Get(low);
}

int DeltaLength(std::uint64_t n) {
  const int len = BitLength(n);
  return len - 1 + GammaLength(static_cast<std::uint64_t>(len));
}

void PutOmega(BitWriter& w, std::uint64_t n) {
  assert(n >= 1);
  // The groups are emitted last-computed first, so collect them before writing.
  std::uint64_t groups[8];
  int count = 0;
  while (n > 1) {
    groups[count++] = n;
    n = static_cast<std::uint64_t>(BitLength(n) - 1);
  }
  while (count > 0) {
    const std::uint64_t g = groups[--count];
    w.Put(g, BitLength(g));
  }
  w.PutBit(false);
}

std::uint64_t GetOmega(BitReader& r) {
  std::uint64_t n = 1;
  while (r.GetBit()) {
    // The leading 1 was just read; the group has n+1 bits in all.
    if (n > 63) r.Fail("Elias-omega code for a value over 64 bits");
    const int rest = static_cast<int>(n);
    n = (std::uint64_t{1} << rest) | r.Get(rest);
  }
  return n;
}

int OmegaLength(std::uint64_t n) {
  int len = 1;
  while (n > 1) {
    const int bits = BitLength(n);
    len += bits;
    n = static_cast<std::uint64_t>(bits - 1);
  }
  return len;
}

}  // namespace gradquant
