#pragma once
/**
 * @file report.hpp
 * Tabular results on stdout: an aligned table for people, CSV or JSON for scripts. Every report
 * carries a header (gradquant version, command, spec, seed, inputs) so a run can be reproduced:
 * table: `key: value` lines before the table; CSV: one leading `# key=value ...` line (pandas:
 * `read_csv(f, comment='#')`); JSON: an object {"meta": {...}, "rows": [{...}, ...]} whose meta
 * values are typed (numbers as JSON numbers). Numbers in CSV and JSON are printed in full
 * (shortest round-trip) precision.
 *
 * The CSV meta line is `#` then ` key=value` per entry. A value is written bare unless it is
 * empty or holds a space, tab, `"`, `\` or a control character; then it is written in double
 * quotes with `\"`, `\\`, `\n`, `\r` and `\t` escapes (other control characters as `\xHH`),
 * so the line stays one line and splits at unquoted spaces. Keys are `[A-Za-z0-9_.:/-]` words
 * (file attributes are `path:name`), quoted the same way when they need it or hold `=`.
 */
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gradquant::cli {

/** Output format of a report. */
enum class Format { kTable, kCsv, kJson };

/** "table", "csv", "json" or "auto" (table on a terminal, CSV otherwise). @throws SpecError */
Format ParseFormat(const std::string& text);

/** A JSON value written verbatim in JSON (e.g. a nested array); a quoted field in CSV. */
struct RawJson {
  std::string text;
};

/**
 * One cell: text, integer, real (NaN prints as empty in CSV, null in JSON, "-" in tables) or
 * raw JSON.
 */
using Cell = std::variant<std::string, std::int64_t, std::uint64_t, double, RawJson>;

/** A report: header lines plus rows of named columns. */
class Report {
 public:
  explicit Report(std::vector<std::string> columns) : columns_(std::move(columns)) {}

  /** Adds a header entry (kept in insertion order); numbers stay numbers in JSON. */
  void Meta(const std::string& key, Cell value) { meta_.emplace_back(key, std::move(value)); }

  /** Adds a row; must have one cell per column. */
  void Row(std::vector<Cell> cells);

  /** Prints in @p format. @throws IoError if stdout cannot be written. */
  void Print(std::ostream& out, Format format) const;

 private:
  std::vector<std::string> columns_;
  std::vector<std::pair<std::string, Cell>> meta_;
  std::vector<std::vector<Cell>> rows_;
};

}  // namespace gradquant::cli
