// `gradquant analyze` end to end on the sample dump: CSV and JSON parse and carry the
// documented columns, the grouping options, usage errors, and the plotting scripts.
#include <catch2/catch.hpp>
#include <cctype>
#include <map>
#include <sstream>
#include <stdexcept>

#include "test_util.hpp"

namespace gradquant {
namespace {

// The documented columns (docs/cli.md#analyze); method stats and corr_matrix come after them.
// clang-format off
const std::vector<std::string> kQuantizerColumns = {
    "quantizer", "ef", "layer", "record", "step", "n", "workers", "records", "bits",
    "bits_per_coord", "bits_ideal_per_coord", "ratio", "downlink_bits", "nmse", "nmse_ci",
    "nmse_theory", "theory_kind", "nmse_over_theory", "nmse_bound", "bias", "cosine", "agg_nmse",
    "ef_residual", "acc_nmse", "encode_gbps", "decode_gbps"};
// clang-format on
// clang-format off
const std::vector<std::string> kGradientColumns = {
    "layer", "record", "step", "n", "workers", "records", "norm", "mean_norm", "max_abs",
    "kurtosis", "laplace_scale", "gauss_sigma", "ks_laplace", "ks_gauss", "corr_mean", "corr_min",
    "corr_max", "corr_others", "sign_agree", "sign_agree_weighted", "topk_k", "topk_jaccard",
    "corr_matrix"};
// clang-format on

std::string Sample() { return test::SourcePath("data/fmnist_cnn.h5"); }

// ---- a small CSV reader: RFC 4180 fields, sections opened by "# table=..." lines ----

std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  if (quoted) throw std::runtime_error("unterminated quote in: " + line);
  return out;
}

struct CsvTable {
  std::string meta;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
};

std::vector<CsvTable> CsvSections(const std::string& text) {
  std::vector<CsvTable> tables;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#", 0) == 0) {
      tables.push_back({line, {}, {}});
    } else if (tables.empty()) {
      throw std::runtime_error("CSV data before the first # line");
    } else if (tables.back().header.empty()) {
      tables.back().header = CsvFields(line);
    } else {
      const auto fields = CsvFields(line);
      if (fields.size() != tables.back().header.size()) throw std::runtime_error("ragged: " + line);
      std::map<std::string, std::string> row;
      for (std::size_t i = 0; i < fields.size(); ++i) row[tables.back().header[i]] = fields[i];
      tables.back().rows.push_back(row);
    }
  }
  return tables;
}

double Number(const std::string& s) {
  std::size_t used = 0;
  const double v = std::stod(s, &used);
  if (used != s.size()) throw std::runtime_error("not a number: " + s);
  return v;
}

// ---- a small JSON reader, strict enough to reject what Python's json module rejects ----

struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  double number = 0;
  std::string text;
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json& operator[](const std::string& key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return v;
    }
    throw std::runtime_error("no key " + key);
  }
  bool Has(const std::string& key) const {
    for (const auto& kv : members) {
      if (kv.first == key) return true;
    }
    return false;
  }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& s) : s_(s) {}
  Json Document() {
    Json v = Value();
    Space();
    if (p_ != s_.size()) Fail("trailing text");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) {
    throw std::runtime_error("JSON " + what + " at offset " + std::to_string(p_));
  }
  void Space() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  bool Eat(char c) {
    Space();
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  void Expect(char c) {
    if (!Eat(c)) Fail(std::string("expected '") + c + "'");
  }
  std::string String() {
    Expect('"');
    std::string out;
    while (p_ < s_.size() && s_[p_] != '"') {
      if (s_[p_] == '\\') {
        if (++p_ >= s_.size()) Fail("bad escape");
        const char e = s_[p_];
        out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
        if (e == 'u') p_ += 4;
      } else if (static_cast<unsigned char>(s_[p_]) < 0x20) {
        Fail("control character in string");
      } else {
        out += s_[p_];
      }
      ++p_;
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
      if (Eat('}')) return v;
      do {
        std::string key = String();
        Expect(':');
        v.members.emplace_back(key, Value());
      } while (Eat(','));
      Expect('}');
    } else if (c == '[') {
      v.kind = Json::kArray;
      ++p_;
      if (Eat(']')) return v;
      do v.items.push_back(Value());
      while (Eat(','));
      Expect(']');
    } else if (c == '"') {
      v.kind = Json::kString;
      v.text = String();
    } else if (s_.compare(p_, 4, "null") == 0) {
      p_ += 4;
    } else if (s_.compare(p_, 4, "true") == 0 || s_.compare(p_, 5, "false") == 0) {
      v.kind = Json::kBool;
      p_ += s_[p_] == 't' ? 4 : 5;
    } else {
      v.kind = Json::kNumber;
      const std::size_t start = p_;
      while (p_ < s_.size() && std::strchr("+-0123456789.eE", s_[p_])) ++p_;
      if (start == p_) Fail("unexpected character");
      v.number = Number(s_.substr(start, p_ - start));
    }
    return v;
  }
  const std::string& s_;
  std::size_t p_ = 0;
};

void RequireColumns(const std::vector<std::string>& have, const std::vector<std::string>& want) {
  for (const auto& c : want) {
    INFO("column " << c);
    CHECK(std::find(have.begin(), have.end(), c) != have.end());
  }
}

}  // namespace

TEST_CASE("analyze CSV: two sections with the documented columns, full precision", "[cli]") {
  const auto r = test::RunGradquant("analyze " + Sample() +
                                    " -q dqsg:s=3 -q qsgd:s=7,bucket=512 --trials 2 --records 0 "
                                    "--format csv");
  REQUIRE(r.exitCode == 0);
  const auto tables = CsvSections(r.out);
  REQUIRE(tables.size() == 2);
  CHECK(tables[0].meta.rfind("# table=quantizers ", 0) == 0);
  CHECK(tables[0].meta.find(" seed=0 ") != std::string::npos);
  CHECK(tables[0].meta.find(" trials=2 ") != std::string::npos);
  CHECK(tables[1].meta == "# table=gradients");
  RequireColumns(tables[0].header, kQuantizerColumns);
  RequireColumns(tables[1].header, kGradientColumns);
  // One row per (quantizer, layer); specs are canonical and survive their commas.
  REQUIRE(tables[0].rows.size() == 16);
  CHECK(tables[0].rows[0].at("quantizer") == "dqsg:bucket=0,s=3");
  CHECK(tables[0].rows[8].at("quantizer") == "qsgd:bucket=512,coding=elias,norm=l2,s=7");
  CHECK(tables[0].rows[0].at("layer") == "conv1.weight");
  CHECK(tables[0].rows[0].at("record") == "*");
  CHECK(tables[0].rows[8].count("nnz_frac") == 1);  // a method stat becomes a column
  for (const auto& row : tables[0].rows) {
    INFO(row.at("quantizer") << " " << row.at("layer"));
    CHECK(row.at("theory_kind") == "exact");
    CHECK(Number(row.at("nmse")) > 0.0);
    CHECK(Number(row.at("nmse_over_theory")) == Approx(1.0).margin(0.5));
    CHECK(Number(row.at("ratio")) == Approx(32.0 / Number(row.at("bits_per_coord"))));
  }
  // Full precision: more than the table's five significant digits.
  CHECK(tables[0].rows[0].at("nmse").size() > 8);
  REQUIRE(tables[1].rows.size() == 8);
  CHECK(tables[1].rows[0].at("corr_matrix").rfind("[[1,", 0) == 0);
}

TEST_CASE("analyze JSON: one object per table, rows keyed by column, the full matrix", "[cli]") {
  const auto r = test::RunGradquant("analyze " + Sample() +
                                    " -q dqsg:s=3 -q qsgd:s=4 --trials 2 --records 1:3 --by all "
                                    "--format json --seed 9");
  REQUIRE(r.exitCode == 0);
  Json doc;
  REQUIRE_NOTHROW(doc = JsonReader(r.out).Document());
  REQUIRE(doc.kind == Json::kObject);
  REQUIRE(doc.members.size() == 2);
  const Json& q = doc["quantizers"];
  CHECK(q["meta"]["seed"].kind == Json::kNumber);  // typed meta: numbers as numbers
  CHECK(q["meta"]["seed"].number == 9);
  CHECK(q["meta"]["trials"].number == 2);
  CHECK(q["meta"]["by"].text == "all");
  REQUIRE(q["rows"].items.size() == 2);  // --by all: one row per quantizer
  for (const auto& row : q["rows"].items) {
    std::vector<std::string> keys;
    for (const auto& kv : row.members) keys.push_back(kv.first);
    RequireColumns(keys, kQuantizerColumns);
    CHECK(row["layer"].text == "*");
    CHECK(row["record"].text == "*");
    CHECK(row["n"].number == 30134);
    CHECK(row["records"].number == 2);
    CHECK(row["nmse_bound"].kind ==
          (row["quantizer"].text.rfind("qsgd", 0) == 0 ? Json::kNumber : Json::kNull));
  }
  const Json& g = doc["gradients"]["rows"];
  REQUIRE(g.items.size() == 1);
  std::vector<std::string> keys;
  for (const auto& kv : g.items[0].members) keys.push_back(kv.first);
  RequireColumns(keys, kGradientColumns);
  const Json& m = g.items[0]["corr_matrix"];
  REQUIRE(m.items.size() == 4);
  for (std::size_t a = 0; a < 4; ++a) {
    REQUIRE(m.items[a].items.size() == 4);
    CHECK(m.items[a].items[a].number == Approx(1.0));
    CHECK(m.items[a].items[(a + 1) % 4].number == m.items[(a + 1) % 4].items[a].number);
  }
}

TEST_CASE("analyze groups by record and prints tables; no -q means statistics only", "[cli]") {
  const auto byRecord = test::RunGradquant("analyze " + Sample() +
                                           " -q qsgd:s=2 --trials 2 --records 0,5 --layers bias "
                                           "--by record --report quantizers --format csv");
  REQUIRE(byRecord.exitCode == 0);
  const auto t = CsvSections(byRecord.out);
  REQUIRE(t.size() == 1);
  REQUIRE(t[0].rows.size() == 8);  // 4 bias layers x 2 records
  CHECK(t[0].rows[1].at("record") == "5");
  CHECK(t[0].rows[1].at("step") == "250");

  const auto statsOnly = test::RunGradquant("analyze " + Sample() + " --records 0 --format csv");
  REQUIRE(statsOnly.exitCode == 0);
  const auto s = CsvSections(statsOnly.out);
  REQUIRE(s.size() == 1);
  CHECK(s[0].meta.rfind("# table=gradients ", 0) == 0);
  CHECK(
      test::RunGradquant("analyze " + Sample() + " -q dqsg --stats --records 0 --format csv").out ==
      statsOnly.out);

  const auto table = test::RunGradquant("analyze " + Sample() +
                                        " -q dqsg:s=3 --trials 2 --records 0 --format table");
  REQUIRE(table.exitCode == 0);
  CHECK(table.out.find("table: quantizers") != std::string::npos);
  CHECK(table.out.find("\ntable: gradients\n") != std::string::npos);
  CHECK(table.out.find("corr_matrix") == std::string::npos);  // too wide for a terminal
}

TEST_CASE("analyze rejects bad options with exit 1 and missing files with exit 2", "[cli]") {
  const std::string base = "analyze " + Sample() + " --records 0 ";
  for (const std::string bad :
       {"--by layers", "--trials 0", "--report quantizers", "--report all",
        "-q dqsg --stats --report quantizers", "-q nosuchquantizer", "-q dqsg:s=0"}) {
    INFO(bad);
    const auto r = test::RunGradquant(base + bad);
    CHECK(r.exitCode == 1);
    CHECK(r.err.rfind("gradquant: error: ", 0) == 0);
    CHECK(r.out.empty());
  }
  CHECK(test::RunGradquant("analyze /nonexistent/dump.h5 -q dqsg").exitCode == 2);
}

// The plot scripts are tested on real CSV and JSON reports by tests/scripts/plot_scripts_test.py.

}  // namespace gradquant
