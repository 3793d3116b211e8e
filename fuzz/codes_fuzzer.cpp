// libFuzzer target for BitReader and the Elias decoders (coding/bit_reader.hpp, codes.hpp).
// Input: byte 0 flags, then (flag bit 0) 8 bytes of a declared bit count, then one byte giving
// the number of operations K, K operation bytes, and the message bytes. Every read either
// throws FormatError or returns a value whose code length matches what was consumed; a
// BitReader that accepts a byte count and bit count that disagree is a finding.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/core/error.hpp"

namespace {

[[noreturn]] void Finding(const char* what) {
  std::fprintf(stderr, "codes_fuzzer: %s\n", what);
  std::abort();
}

// Runs one operation; checks each universal code's consumed length against its value.
void Run(gradquant::BitReader& r, std::uint8_t op) {
  using namespace gradquant;
  const std::uint64_t before = r.Remaining();
  switch (op & 7u) {
    case 0: {
      const std::uint64_t v = GetGamma(r);
      if (v == 0 || before - r.Remaining() != static_cast<std::uint64_t>(GammaLength(v))) {
        Finding("Elias-gamma length mismatch");
      }
      break;
    }
    case 1: {
      const std::uint64_t v = GetDelta(r);
      if (v == 0 || before - r.Remaining() != static_cast<std::uint64_t>(DeltaLength(v))) {
        Finding("Elias-delta length mismatch");
      }
      break;
    }
    case 2: {
      const std::uint64_t v = GetOmega(r);
      if (v == 0 || before - r.Remaining() != static_cast<std::uint64_t>(OmegaLength(v))) {
        Finding("Elias-omega length mismatch");
      }
      break;
    }
    case 3: {
      const int nbits = (op >> 3) % 65;
      const std::uint64_t v = r.Get(nbits);
      if (nbits < 64 && (v >> nbits) != 0) Finding("Get returned more bits than asked");
      break;
    }
    case 4:
      r.GetFloat32();
      break;
    case 5: {
      std::uint32_t values[32];
      const int nbits = 1 + (op >> 3) % 32;
      r.GetFixed(values, 1 + (op >> 3) % 32, nbits);
      break;
    }
    case 6:
      r.GetBit();
      break;
    default:
      r.ExpectEnd();
  }
  if (r.Remaining() > before) Finding("Remaining() grew");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gradquant;
  if (size < 2) return 0;
  std::size_t pos = 0;
  const std::uint8_t flags = data[pos++];
  bool declared = false;
  std::uint64_t bits = 0;
  if (flags & 1u) {
    if (size < pos + 8) return 0;
    for (int i = 7; i >= 0; --i) bits = (bits << 8) | data[pos + i];
    pos += 8;
    declared = true;
  }
  if (pos >= size) return 0;
  const std::size_t wanted = data[pos++];
  const std::size_t ops = std::min(wanted, size - pos);
  const std::uint8_t* opBytes = data + pos;
  pos += ops;
  Message m;
  m.bytes.assign(data + pos, data + size);
  m.bits = declared ? bits : (m.bytes.empty() ? 0 : 8 * m.bytes.size() - (flags >> 5));
  try {
    BitReader r(m, "fuzz");
    // Accepted: the byte count must be exactly ceil(bits / 8).
    const std::uint64_t bytes = m.bytes.size();
    if (bytes != m.bits / 8 + (m.bits % 8 != 0))
      Finding("BitReader accepted bytes != ceil(bits/8)");
    for (std::size_t i = 0; i < ops; ++i) {
      try {
        Run(r, opBytes[i]);
      } catch (const FormatError&) {
        // A read past the end or a malformed code: fine, try the next operation.
      }
    }
  } catch (const FormatError&) {
  }
  return 0;
}
