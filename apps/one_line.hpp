#pragma once
/**
 * @file one_line.hpp
 * Text that must stay on one line (an error message, a CSV meta value): control characters are
 * shown as `\n`, `\r`, `\t` or `\xHH` (lower-case hex); every other byte is kept.
 */
#include <string>

namespace gradquant::cli {

/** Appends @p ch to @p out, escaped when it is a control character. */
inline void AppendOneLine(std::string& out, char ch) {
  const auto u = static_cast<unsigned char>(ch);
  if (ch == '\n') {
    out += "\\n";
  } else if (ch == '\r') {
    out += "\\r";
  } else if (ch == '\t') {
    out += "\\t";
  } else if (u < 0x20 || u == 0x7f) {
    static const char kHex[] = "0123456789abcdef";
    out += "\\x";
    out += kHex[u >> 4];
    out += kHex[u & 15];
  } else {
    out += ch;
  }
}

/** @p text with its control characters escaped as AppendOneLine does. */
inline std::string OneLine(const std::string& text) {
  std::string out;
  for (const char ch : text) AppendOneLine(out, ch);
  return out;
}

}  // namespace gradquant::cli
