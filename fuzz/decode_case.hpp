#pragma once
/**
 * @file decode_case.hpp
 * The input format of the decoder fuzzer, shared by the fuzzer, the seed-corpus generator and
 * the regression replay, so a stored input means the same thing to all three:
 *
 * | bytes | meaning                                                                    |
 * |-------|----------------------------------------------------------------------------|
 * | 0     | quantizer: index into BuiltinRegistry().Names(), modulo their count        |
 * | 1, 2  | first parameter change: key selector (0 = none), value selector            |
 * | 3, 4  | second parameter change, same encoding                                     |
 * | 5, 6  | N - 1, little-endian, low 12 bits: N in [1, 4096]                          |
 * | 7     | bits 0-1: W - 1 (W in [1, 4]); bit 2: 2-D shape; bits 4-7: layer index    |
 * | 8     | rows selector of a 2-D shape (rows = gcd(N, 1 + byte))                      |
 * | 9-16  | seed, little-endian                                                        |
 * | 17-20 | step, little-endian                                                        |
 * | rest  | W messages, each: 2 bytes length L (LE), 1 byte pad (low 3 bits), L bytes  |
 *
 * A message of L > 0 bytes has 8L - pad bits (L = 0: 0 bits); missing bytes at the end of the
 * input shorten the last messages. Parameter values come from each key's documented range
 * (ParamDoc::range), so new quantizers and parameters are covered without edits here.
 */
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "gradquant/coding/message.hpp"
#include "gradquant/core/layer_info.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::fuzz {

/** Header size in bytes. */
inline constexpr std::size_t kHeader = 21;
/** Largest N a case can ask for. */
inline constexpr std::size_t kMaxN = 4096;

/** A decoded fuzzer input. */
struct DecodeCase {
  std::string spec;
  LayerInfo layer;
  std::uint32_t workers = 1;
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::vector<Message> messages;
};

/** The values a fuzzer may give parameter @p doc, from its documented range. */
inline std::vector<std::string> Candidates(const ParamDoc& doc) {
  std::vector<std::string> out = {doc.defaultValue};
  std::string range = doc.range;
  if (range.rfind("auto|", 0) == 0) {
    out.push_back("auto");
    range = range.substr(5);
  }
  if (range.empty() || range[0] != '[') {  // choices a|b|c
    std::size_t start = 0;
    while (start <= range.size()) {
      const auto bar = range.find('|', start);
      out.push_back(range.substr(start, bar - start));
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    return out;
  }
  const double lo = std::strtod(range.c_str() + 1, nullptr);
  const double hi = std::strtod(range.c_str() + range.find(',') + 1, nullptr);
  const bool integer =
      doc.defaultValue.find_first_of(".eE") == std::string::npos && doc.defaultValue != "auto";
  if (integer) {
    for (double v : {lo, lo + 1, 2.0, 3.0, 4.0, 7.0, 8.0, 16.0, 64.0, 255.0, 256.0, hi}) {
      if (v >= lo && v <= hi) out.push_back(std::to_string(static_cast<long long>(v)));
    }
  } else {
    for (double v : {lo, hi, 0.5 * (lo + hi), lo + 1e-3 * (hi - lo)}) {
      out.push_back(std::to_string(v));
    }
  }
  return out;
}

/**
 * The spec a case selects: the registered name plus up to two changed parameters. Falls back to
 * the name alone if the registry rejects the combination.
 */
inline std::string SpecFor(std::uint8_t quantizer, const std::uint8_t change[4]) {
  const Registry& registry = BuiltinRegistry();
  const auto names = registry.Names();
  const std::string name = names[quantizer % names.size()];
  const auto docs = registry.Docs(name);
  std::string params;
  for (int c = 0; c < 2 && !docs.empty(); ++c) {
    if (change[2 * c] == 0) continue;
    const ParamDoc& doc = docs[(change[2 * c] - 1u) % docs.size()];
    const auto values = Candidates(doc);
    if (params.find(doc.key + "=") != std::string::npos) continue;
    params +=
        (params.empty() ? "" : ",") + doc.key + "=" + values[change[2 * c + 1] % values.size()];
  }
  if (params.empty()) return name;
  try {
    registry.Make(name + ":" + params);
    return name + ":" + params;
  } catch (const std::exception&) {
    return name;
  }
}

/** Reads a case; returns false if the input is shorter than the header. */
inline bool ParseDecodeCase(const std::uint8_t* data, std::size_t size, DecodeCase* out) {
  if (size < kHeader) return false;
  out->spec = SpecFor(data[0], data + 1);
  const std::size_t n = 1 + ((data[5] | (data[6] << 8)) & (kMaxN - 1));
  out->workers = 1 + (data[7] & 3u);
  std::vector<std::uint64_t> shape = {n};
  if (data[7] & 4u) {
    const std::size_t rows = std::gcd(n, static_cast<std::size_t>(1 + data[8]));
    shape = {rows, n / rows};
  }
  out->layer = LayerInfo{"fuzz", shape, n, static_cast<std::uint32_t>(data[7] >> 4)};
  out->seed = 0;
  for (int i = 7; i >= 0; --i) out->seed = (out->seed << 8) | data[9 + i];
  out->step = 0;
  for (int i = 3; i >= 0; --i) out->step = (out->step << 8) | data[17 + i];
  std::size_t pos = kHeader;
  out->messages.assign(out->workers, Message{});
  for (auto& m : out->messages) {
    if (pos + 3 > size) break;
    std::size_t len = data[pos] | (data[pos + 1] << 8);
    const unsigned pad = data[pos + 2] & 7u;
    pos += 3;
    len = std::min(len, size - pos);
    m.bytes.assign(data + pos, data + pos + len);
    m.bits = len == 0 ? 0 : 8 * static_cast<std::uint64_t>(len) - pad;
    pos += len;
  }
  return true;
}

/** The context @p c's messages decode in; @p state comes from the quantizer's NewLayerState. */
inline SlabContext ContextOf(const DecodeCase& c, LayerState* state) {
  SlabContext ctx;
  ctx.layer = &c.layer;
  ctx.seed = c.seed;
  ctx.step = c.step;
  ctx.workers = c.workers;
  ctx.state = state;
  return ctx;
}

/** Writes a case's header for the given fields (the inverse of ParseDecodeCase's header). */
inline std::vector<std::uint8_t> DecodeCaseHeader(std::uint8_t quantizer,
                                                  const std::uint8_t change[4], std::size_t n,
                                                  std::uint32_t workers, bool twoD,
                                                  std::uint8_t rows, std::uint8_t layerIndex,
                                                  std::uint64_t seed, std::uint32_t step) {
  std::vector<std::uint8_t> h(kHeader, 0);
  h[0] = quantizer;
  std::copy(change, change + 4, h.begin() + 1);
  h[5] = static_cast<std::uint8_t>((n - 1) & 0xff);
  h[6] = static_cast<std::uint8_t>(((n - 1) >> 8) & 0x0f);
  h[7] = static_cast<std::uint8_t>(((workers - 1) & 3u) | (twoD ? 4u : 0u) | (layerIndex << 4));
  h[8] = rows;
  for (int i = 0; i < 8; ++i) h[9 + i] = static_cast<std::uint8_t>(seed >> (8 * i));
  for (int i = 0; i < 4; ++i) h[17 + i] = static_cast<std::uint8_t>(step >> (8 * i));
  return h;
}

/** Appends one message in the case format. */
inline void AppendMessage(std::vector<std::uint8_t>& out, const Message& m) {
  const std::size_t len = m.bytes.size();
  out.push_back(static_cast<std::uint8_t>(len & 0xff));
  out.push_back(static_cast<std::uint8_t>((len >> 8) & 0xff));
  out.push_back(static_cast<std::uint8_t>(len * 8 - m.bits));
  out.insert(out.end(), m.bytes.begin(), m.bytes.end());
}

}  // namespace gradquant::fuzz
