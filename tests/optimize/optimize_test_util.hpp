#pragma once
// Reading the CSV reports of the CLI in tests: `# meta` lines skipped, quoted fields unquoted,
// blocks (the tables of `optimize --part both`) separated by blank lines.
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradquant::test {

/** One CSV table: a header and rows of text fields. */
struct CsvTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;

  /** Position of @p column; throws if absent. */
  std::size_t Column(const std::string& column) const {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c] == column) return c;
    }
    throw std::runtime_error("no column " + column);
  }
  /** The first row whose @p column equals @p value; throws if none. */
  const std::vector<std::string>& Row(const std::string& column, const std::string& value) const {
    const std::size_t c = Column(column);
    for (const auto& r : rows) {
      if (r.at(c) == value) return r;
    }
    throw std::runtime_error("no row with " + column + " = " + value);
  }
  /** The field of @p row in @p column. */
  const std::string& Get(const std::vector<std::string>& row, const std::string& column) const {
    return row.at(Column(column));
  }
};

/** Splits one CSV line (RFC 4180 quoting, no embedded newlines). */
inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted && ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (ch == '"') {
      quoted = !quoted;
    } else if (ch == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += ch;
    }
  }
  return fields;
}

/** Table number @p block (0-based) of a CSV text. */
inline CsvTable ParseCsv(const std::string& text, std::size_t block = 0) {
  CsvTable table;
  std::istringstream in(text);
  std::size_t current = 0;
  bool inBlock = false;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) {
      if (inBlock) ++current;
      inBlock = false;
      continue;
    }
    inBlock = true;
    if (current != block || line[0] == '#') continue;
    if (table.columns.empty()) {
      table.columns = SplitCsvLine(line);
    } else {
      table.rows.push_back(SplitCsvLine(line));
    }
  }
  return table;
}

}  // namespace gradquant::test
