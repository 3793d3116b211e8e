#pragma once
// Test-only readers for the CLI's CSV and JSON reports (report.hpp), strict enough that a
// malformed report fails the test: RFC 4180 CSV with one leading '#' meta line, and JSON.
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradquant::test {

/** A CSV report: the '# key=value ...' line, the header and the rows as text. */
struct CsvReport {
  std::string meta;
  std::vector<std::string> columns;
  std::vector<std::map<std::string, std::string>> rows;
};

/** Parses a CSV report; throws std::runtime_error when a row's width differs from the header. */
inline CsvReport ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false;
  std::size_t i = 0;
  CsvReport out;
  if (text.rfind("#", 0) != 0) throw std::runtime_error("CSV report has no '#' meta line");
  const auto eol = text.find('\n');
  out.meta = text.substr(0, eol);
  for (i = eol + 1; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c == '\n') {
      fields.push_back(field);
      records.push_back(fields);
      fields.clear();
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted || !field.empty() || !fields.empty())
    throw std::runtime_error("CSV: unterminated line");
  if (records.empty()) throw std::runtime_error("CSV: no header");
  out.columns = records[0];
  for (std::size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != out.columns.size()) {
      throw std::runtime_error("CSV: row " + std::to_string(r) + " has " +
                               std::to_string(records[r].size()) + " fields");
    }
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < out.columns.size(); ++c) row[out.columns[c]] = records[r][c];
    out.rows.push_back(row);
  }
  return out;
}

/** A JSON value. */
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool boolean = false;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::map<std::string, Json> members;

  /** The member @p key of an object; throws if absent. */
  const Json& operator[](const std::string& key) const {
    const auto it = members.find(key);
    if (kind != kObject || it == members.end()) throw std::runtime_error("JSON: no member " + key);
    return it->second;
  }
};

namespace detail {

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}

  Json Document() {
    Json v = Value();
    Space();
    if (p_ != s_.size()) Fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& why) const {
    throw std::runtime_error("JSON: " + why + " at offset " + std::to_string(p_));
  }
  void Space() {
    while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\n' || s_[p_] == '\t' || s_[p_] == '\r'))
      ++p_;
  }
  void Expect(char c) {
    Space();
    if (p_ >= s_.size() || s_[p_] != c) Fail(std::string("expected '") + c + "'");
    ++p_;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (s_.compare(p_, w.size(), w) != 0) return false;
    p_ += w.size();
    return true;
  }
  std::string String() {
    Expect('"');
    std::string out;
    while (p_ < s_.size() && s_[p_] != '"') {
      char c = s_[p_++];
      if (static_cast<unsigned char>(c) < 0x20) Fail("control character in string");
      if (c == '\\') {
        if (p_ >= s_.size()) Fail("bad escape");
        c = s_[p_++];
        if (c == 'n')
          out += '\n';
        else if (c == 't')
          out += '\t';
        else if (c == '"' || c == '\\' || c == '/')
          out += c;
        else if (c == 'u' && p_ + 4 <= s_.size()) {
          out += '?';
          p_ += 4;
        } else
          Fail("bad escape");
      } else {
        out += c;
      }
    }
    if (p_ >= s_.size()) Fail("unterminated string");
    ++p_;
    return out;
  }
  Json Value() {
    Space();
    if (p_ >= s_.size()) Fail("unexpected end");
    Json v;
    const char c = s_[p_];
    if (c == '{') {
      v.kind = Json::kObject;
      ++p_;
      Space();
      if (p_ < s_.size() && s_[p_] == '}') {
        ++p_;
        return v;
      }
      do {
        const std::string key = String();
        Expect(':');
        v.members[key] = Value();
        Space();
      } while (p_ < s_.size() && s_[p_] == ',' && ++p_);
      Expect('}');
    } else if (c == '[') {
      v.kind = Json::kArray;
      ++p_;
      Space();
      if (p_ < s_.size() && s_[p_] == ']') {
        ++p_;
        return v;
      }
      do {
        v.items.push_back(Value());
        Space();
      } while (p_ < s_.size() && s_[p_] == ',' && ++p_);
      Expect(']');
    } else if (c == '"') {
      v.kind = Json::kString;
      v.text = String();
    } else if (Literal("null")) {
      v.kind = Json::kNull;
    } else if (Literal("true")) {
      v.kind = Json::kBool;
      v.boolean = true;
    } else if (Literal("false")) {
      v.kind = Json::kBool;
    } else {
      const char* begin = s_.c_str() + p_;
      char* end = nullptr;
      v.kind = Json::kNumber;
      v.number = std::strtod(begin, &end);
      if (end == begin) Fail("unexpected character");
      p_ += static_cast<std::size_t>(end - begin);
    }
    return v;
  }

  const std::string& s_;
  std::size_t p_ = 0;
};

}  // namespace detail

/** Parses a JSON document; throws std::runtime_error on malformed input. */
inline Json ParseJson(const std::string& text) { return detail::JsonParser(text).Document(); }

}  // namespace gradquant::test
