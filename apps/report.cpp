#include "report.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "gradquant/core/error.hpp"
#include "one_line.hpp"

namespace gradquant::cli {
namespace {

std::string Full(double x) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, res.ptr);
}

std::string Short(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.5g", x);
  return buf;
}

bool IsNan(const Cell& c) {
  return std::holds_alternative<double>(c) && std::isnan(std::get<double>(c));
}

std::string Text(const Cell& c, bool full) {
  if (const auto* s = std::get_if<std::string>(&c)) return *s;
  if (const auto* i = std::get_if<std::int64_t>(&c)) return std::to_string(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&c)) return std::to_string(*u);
  if (const auto* j = std::get_if<RawJson>(&c)) return j->text;
  const double d = std::get<double>(c);
  if (std::isnan(d)) return full ? "" : "-";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  return full ? Full(d) : Short(d);
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

// A CSV meta key or value: bare when it has no space, quote, backslash or control character (nor
// '=' in a key),
// else quoted with backslash escapes (report.hpp), so the `#` line is always one line.
std::string MetaField(const std::string& s, bool key) {
  const bool bare = !s.empty() && std::none_of(s.begin(), s.end(), [key](char ch) {
    return ch == ' ' || ch == '"' || ch == '\\' || (key && ch == '=') ||
           static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f;
  });
  if (bare) return s;
  std::string out = "\"";
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    AppendOneLine(out, ch);
  }
  return out + "\"";
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string JsonValue(const Cell& c) {
  if (const auto* s = std::get_if<std::string>(&c)) return JsonString(*s);
  if (const auto* j = std::get_if<RawJson>(&c)) return j->text;
  if (IsNan(c)) return "null";
  if (const auto* d = std::get_if<double>(&c); d && std::isinf(*d)) return "null";
  return Text(c, true);
}

}  // namespace

Format ParseFormat(const std::string& text) {
  if (text == "table") return Format::kTable;
  if (text == "csv") return Format::kCsv;
  if (text == "json") return Format::kJson;
  if (text == "auto") return isatty(STDOUT_FILENO) ? Format::kTable : Format::kCsv;
  throw SpecError("--format " + text + ": expected table, csv, json or auto");
}

void Report::Row(std::vector<Cell> cells) {
  if (cells.size() != columns_.size()) throw std::logic_error("report row has the wrong width");
  rows_.push_back(std::move(cells));
}

void Report::Print(std::ostream& out, Format format) const {
  std::ostringstream s;
  if (format == Format::kCsv) {
    s << '#';
    for (const auto& [k, v] : meta_)
      s << ' ' << MetaField(k, true) << '=' << MetaField(Text(v, true), false);
    s << '\n';
    for (std::size_t c = 0; c < columns_.size(); ++c) s << (c ? "," : "") << columns_[c];
    s << '\n';
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c)
        s << (c ? "," : "") << CsvField(Text(row[c], true));
      s << '\n';
    }
  } else if (format == Format::kJson) {
    s << "{\"meta\": {";
    for (std::size_t i = 0; i < meta_.size(); ++i) {
      s << (i ? ", " : "") << JsonString(meta_[i].first) << ": " << JsonValue(meta_[i].second);
    }
    s << "},\n \"rows\": [";
    for (std::size_t r = 0; r < rows_.size(); ++r) {
      s << (r ? ",\n  {" : "\n  {");
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        s << (c ? ", " : "") << JsonString(columns_[c]) << ": " << JsonValue(rows_[r][c]);
      }
      s << '}';
    }
    s << "\n]}\n";
  } else {
    for (const auto& [k, v] : meta_) s << k << ": " << Text(v, true) << '\n';
    std::vector<std::size_t> width(columns_.size());
    for (std::size_t c = 0; c < columns_.size(); ++c) width[c] = columns_[c].size();
    for (const auto& row : rows_) {
      for (std::size_t c = 0; c < row.size(); ++c)
        width[c] = std::max(width[c], Text(row[c], false).size());
    }
    auto line = [&](auto cell) {
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        const std::string t = cell(c);
        const bool left =
            c == 0 || (!rows_.empty() && std::holds_alternative<std::string>(rows_[0][c]));
        if (c) s << "  ";
        if (left) {
          s << t << std::string(width[c] - t.size(), ' ');
        } else {
          s << std::string(width[c] - t.size(), ' ') << t;
        }
      }
      s << '\n';
    };
    line([&](std::size_t c) { return columns_[c]; });
    for (const auto& row : rows_) line([&](std::size_t c) { return Text(row[c], false); });
  }
  out << s.str();
  out.flush();
  if (!out) throw IoError("stdout: write failed (" + std::string(std::strerror(errno)) + ")");
}

}  // namespace gradquant::cli
