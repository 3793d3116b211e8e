// Issue 8's bad-input matrix through the real binary: every malformed dump gives one line
// `gradquant: error: <file>: <object> <problem>` and exit 2, never a crash, and leaves no output;
// NaN/Inf is rejected or zeroed on request; odd but valid dumps (one-element layers, all-zero
// slabs, unusual names) work with every quantizer; unwritable outputs and a full stdout fail
// cleanly. Set GRADQUANT_SHOW_MATRIX=1 to print each case's message.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <tuple>

#include "cli/cli_util.hpp"
#include "cli/report_parse.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

using test::ForgeSpec;
using test::ForgeType;

void Show(const std::string& what, const test::RunResult& run) {
  if (std::getenv("GRADQUANT_SHOW_MATRIX")) {
    std::cout << "| " << what << " | " << run.exitCode << " | `"
              << run.err.substr(0, run.err.find('\n')) << "` |\n";
  }
}

// The inputs of one case and the file its error must name.
struct Inputs {
  std::vector<std::string> paths;
  std::string named;
};

Inputs Forged(const std::string& dir, const std::function<void(ForgeSpec&)>& edit) {
  const std::string path = dir + "/bad.h5";
  ForgeSpec spec = test::ValidSpec();
  edit(spec);
  test::Forge(path, spec);
  return {{path}, path};
}

// Two files, the second forged after @p edit; the error names the second.
Inputs Pair(const std::string& dir, const std::function<void(ForgeSpec&)>& edit) {
  test::Forge(dir + "/first.h5", test::ValidSpec());
  ForgeSpec spec = test::ValidSpec();
  edit(spec);
  test::Forge(dir + "/second.h5", spec);
  return {{dir + "/first.h5", dir + "/second.h5"}, dir + "/second.h5"};
}

struct MatrixCase {
  const char* what;
  std::function<Inputs(const std::string& dir)> make;
  std::vector<std::string> says;
};

const std::vector<MatrixCase>& Matrix() {
  static const std::vector<MatrixCase> cases = {
      {"missing file",
       [](const std::string& d) {
         return Inputs{{d + "/none.h5"}, d + "/none.h5"};
       },
       {"no such file"}},
      {"a directory",
       [](const std::string& d) {
         std::filesystem::create_directory(d + "/dir.h5");
         return Inputs{{d + "/dir.h5"}, d + "/dir.h5"};
       },
       {"is a directory"}},
      {"an empty file",
       [](const std::string& d) {
         std::ofstream(d + "/empty.h5").close();
         return Inputs{{d + "/empty.h5"}, d + "/empty.h5"};
       },
       {"is empty"}},
      {"a text file",
       [](const std::string& d) {
         std::ofstream(d + "/grads.csv") << "layer,value\nfc,0.5\n";
         return Inputs{{d + "/grads.csv"}, d + "/grads.csv"};
       },
       {"not an HDF5 file"}},
      {"a truncated HDF5 file",
       [](const std::string& d) {
         test::Forge(d + "/full.h5", test::ValidSpec());
         test::CopyPrefix(d + "/full.h5", d + "/cut.h5", test::FileSize(d + "/full.h5") / 2);
         std::filesystem::remove(d + "/full.h5");
         return Inputs{{d + "/cut.h5"}, d + "/cut.h5"};
       },
       {"cannot be opened, a truncated or damaged HDF5 file (truncated file: eof = "}},
      {"wrong gradquant_format",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) { s.format = "activations"; });
       },
       {"/ attribute gradquant_format is 'activations'"}},
      {"no gradquant_format",
       [](const std::string& d) { return Forged(d, [](ForgeSpec& s) { s.format.reset(); }); },
       {"/ has no attribute 'gradquant_format'"}},
      {"wrong gradquant_version",
       [](const std::string& d) { return Forged(d, [](ForgeSpec& s) { s.version = 7; }); },
       {"gradquant_version is 7"}},
      {"missing /steps",
       [](const std::string& d) { return Forged(d, [](ForgeSpec& s) { s.steps.reset(); }); },
       {"/steps is missing"}},
      {"missing /gradients",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) { s.withGradients = false; });
       },
       {"/gradients is missing"}},
      {"a layer with the wrong rank",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) { s.layers[0].dims = {2, 12}; });
       },
       {"/gradients/a has 2 axes, expected 3 [S, W, N]"}},
      {"a non-float layer",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) { s.layers[1].type = ForgeType::kInt32; });
       },
       {"/gradients/b.bias is not a floating-point dataset"}},
      {"N disagrees with 'shape'",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) {
           s.layers[0].shape = std::vector<std::int64_t>{4, 4};
         });
       },
       {"/gradients/a attribute 'shape' has product 16 but N = 6"}},
      {"W = 0",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) {
           for (auto& l : s.layers) l.dims[1] = 0;
         });
       },
       {"/gradients/a has no workers (W = 0)"}},
      {"S = 0",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) {
           s.steps = std::vector<std::int64_t>{};
           for (auto& l : s.layers) l.dims[0] = 0;
         });
       },
       {"/steps is empty (S = 0)"}},
      {"/steps not increasing",
       [](const std::string& d) {
         return Forged(d, [](ForgeSpec& s) { s.steps = std::vector<std::int64_t>{5, 5}; });
       },
       {"/steps is not strictly increasing (5 then 5 at record 1)"}},
      {"two files with different /steps",
       [](const std::string& d) {
         return Pair(d, [](ForgeSpec& s) { s.steps = std::vector<std::int64_t>{0, 20}; });
       },
       {"/steps differs from the first file's /steps"}},
      {"two files with different names",
       [](const std::string& d) {
         return Pair(d, [](ForgeSpec& s) {
           s.layers[1].name = "b.weight";
           s.order = std::vector<std::string>{"a", "b.weight"};
         });
       },
       {"/gradients/b.weight does not match the first file's parameter 1 ('b.bias', N = 4)"}},
      {"two files with different sizes",
       [](const std::string& d) {
         return Pair(d, [](ForgeSpec& s) {
           s.layers[0].dims[2] = 8;
           s.layers[0].shape = std::vector<std::int64_t>{2, 4};
         });
       },
       {"/gradients/a does not match the first file's parameter 0 ('a', N = 6)"}},
      {"NaN in a gradient",
       [](const std::string& d) {
         test::Forge(d + "/nan.h5", test::ValidSpec());
         test::PokeGradient(d + "/nan.h5", "b.bias", 1, 0, 2,
                            std::numeric_limits<float>::quiet_NaN());
         return Inputs{{d + "/nan.h5"}, d + "/nan.h5"};
       },
       {"/gradients/b.bias has NaN at record 1, worker 0, index 2"}},
      {"Inf in a gradient (second file)",
       [](const std::string& d) {
         test::Forge(d + "/w0.h5", test::ValidSpec());
         test::Forge(d + "/w1.h5", test::ValidSpec());
         test::PokeGradient(d + "/w1.h5", "a", 0, 1, 5, std::numeric_limits<float>::infinity());
         return Inputs{{d + "/w0.h5", d + "/w1.h5"}, d + "/w1.h5"};
       },
       {"/gradients/a has Inf at record 0, worker 1, index 5"}},
  };
  return cases;
}

std::string Join(const std::vector<std::string>& paths) {
  std::string out;
  for (const auto& p : paths) out += " '" + p + "'";
  return out;
}

// One line, `gradquant: error: <named>: ...`, containing @p says.
void RequireOneLineError(const test::RunResult& run, int code, const std::string& named,
                         const std::vector<std::string>& says) {
  INFO("stderr: " << run.err);
  CHECK(run.exitCode == code);
  CHECK(test::Lines(run.err) == 1);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: " + named + ": "));
  for (const auto& s : says) CHECK_THAT(run.err, Catch::Contains(s));
}

}  // namespace

TEST_CASE("Every malformed dump gives a one-line error, exit 2 and no output",
          "[cli][hostile][valgrind]") {
  for (const auto& c : Matrix()) {
    DYNAMIC_SECTION(c.what) {
      test::TempDir in, out;
      const Inputs inputs = c.make(in.Path().string());
      const auto before = test::Entries(in.Path());
      const std::string output = out / "out.h5";
      const auto compress = test::RunGradquant("compress" + Join(inputs.paths) + " -q dqsg -o '" +
                                               output + "' --format csv");
      Show(c.what, compress);
      RequireOneLineError(compress, 2, inputs.named, c.says);
      CHECK(compress.out.empty());
      CHECK(test::Entries(out.Path()).empty());  // no output, no temporary file
      CHECK(test::Entries(in.Path()) == before);
      // info does not read gradient values; under a wrapper (valgrind) compress alone covers
      // the reader, at half the cost.
      const bool dataError = std::string(c.what).find("in a gradient") != std::string::npos;
      if (!dataError && !std::getenv("GRADQUANT_TEST_WRAPPER")) {
        const auto info = test::RunGradquant("info" + Join(inputs.paths) + " --format csv");
        RequireOneLineError(info, 2, inputs.named, c.says);
      }
    }
  }
}

TEST_CASE("NaN/Inf: --nonfinite zero replaces them by 0 and reports the count", "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = dir / "nan.h5", out = dir / "out.h5";
  test::Forge(dump, test::ValidSpec(3, 2));
  test::PokeGradient(dump, "a", 1, 1, 4, std::numeric_limits<float>::quiet_NaN());
  test::PokeGradient(dump, "a", 2, 0, 0, -std::numeric_limits<float>::infinity());
  test::PokeGradient(dump, "b.bias", 0, 0, 3, std::numeric_limits<float>::infinity());

  const auto reject = test::RunGradquant("compress " + dump + " -q fp32 -o " + out +
                                         " --nonfinite reject --format csv");
  CHECK(reject.exitCode == 2);
  CHECK_THAT(reject.err, Catch::Contains("--nonfinite zero"));
  CHECK_FALSE(std::filesystem::exists(out));

  const auto bad = test::RunGradquant("compress " + dump + " -q fp32 -o " + out +
                                      " --nonfinite skip --format csv");
  CHECK(bad.exitCode == 1);
  CHECK_THAT(bad.err, Catch::Contains("--nonfinite skip: expected reject or zero"));

  const auto run = test::RunGradquant("compress " + dump + " -q fp32 -o " + out +
                                      " --nonfinite zero --format csv");
  Show("--nonfinite zero (warning)", run);
  INFO(run.err);
  REQUIRE(run.exitCode == 0);
  CHECK(test::Lines(run.err) == 1);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: warning: zeroed 3 NaN/Inf gradient values"));
  CHECK_THAT(run.err, Catch::Contains(dump + ": /gradients/a record 1, worker 1, index 4 (NaN)"));
  const auto csv = test::ParseCsv(run.out);
  CHECK_THAT(csv.meta, Catch::Contains("nonfinite=zero"));
  REQUIRE(csv.rows.size() == 3);
  CHECK(csv.rows[0].at("nonfinite") == "2");  // layer a
  CHECK(csv.rows[1].at("nonfinite") == "1");  // layer b.bias
  CHECK(csv.rows[2].at("nonfinite") == "3");  // the whole model
  // The output says so too, and holds 0 where the input had NaN/Inf (fp32 is the identity).
  const Dump result = Dump::Open({out});
  CHECK(result.Files()[0].attributes.at("nonfinite") == "zero");
  CHECK(result.Files()[0].attributes.at("nonfinite_zeroed") == "3");
  CHECK(result.ReadSlab(0, 1, 1)[4] == 0.0f);
  CHECK(result.ReadSlab(0, 1, 1)[3] == static_cast<float>(test::ForgeValue(0, 1, 1, 3)));
  CHECK(result.ReadSlab(1, 0, 0)[3] == 0.0f);

  // A clean dump under --nonfinite zero: count 0, no warning.
  const std::string clean = dir / "clean.h5";
  test::Forge(clean, test::ValidSpec());
  const auto ok = test::RunGradquant("compress " + clean + " -q fp32 -o " + out +
                                     " --nonfinite zero --format csv");
  REQUIRE(ok.exitCode == 0);
  CHECK(ok.err.empty());
  CHECK(Dump::Open({out}).Files()[0].attributes.at("nonfinite_zeroed") == "0");
}

TEST_CASE("One-element layers, all-zero slabs and unusual names work with every quantizer",
          "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = dir / "odd.h5";
  const std::vector<std::string> names = {"single",         "zeros",   "layer with spaces",
                                          "ünïcødé.wéight", "a.b.c.d", "we,ird\"name"};
  ForgeSpec spec = test::ValidSpec(2, 3);
  spec.layers.clear();
  const std::vector<std::vector<std::int64_t>> shapes = {{1}, {5, 4}, {7}, {3, 2}, {2, 2, 2}, {9}};
  for (std::size_t l = 0; l < names.size(); ++l) {
    std::uint64_t n = 1;
    for (auto d : shapes[l]) n *= static_cast<std::uint64_t>(d);
    spec.layers.push_back({names[l], {2, 3, n}, shapes[l], ForgeType::kFloat32, {1, 1, n}, false});
  }
  spec.order = names;
  spec.value = [](std::size_t l, std::size_t s, std::size_t w, std::size_t i) {
    return l == 1 ? 0.0 : test::ForgeValue(l, s, w, i);  // layer "zeros" is all zero
  };
  test::Forge(dump, spec);

  const auto info = test::RunGradquant("info " + dump + " --format json");
  REQUIRE(info.exitCode == 0);
  const test::Json json = test::ParseJson(info.out);
  REQUIRE(json["rows"].items.size() == names.size() + 1);
  for (std::size_t l = 0; l < names.size(); ++l)
    CHECK(json["rows"].items[l]["layer"].text == names[l]);

  for (const auto& name : BuiltinRegistry().Names()) {
    DYNAMIC_SECTION(name) {
      const std::string c = dir / (name + ".h5"), r = dir / (name + "_r.h5");
      const auto run =
          test::RunGradquant("compress " + dump + " -q " + name + " -o " + c + " --format csv");
      INFO(run.err);
      REQUIRE(run.exitCode == 0);
      const auto csv = test::ParseCsv(run.out);  // quoted names survive CSV
      REQUIRE(csv.rows.size() == names.size() + 1);
      for (std::size_t l = 0; l < names.size(); ++l) CHECK(csv.rows[l].at("layer") == names[l]);
      CHECK(csv.rows[1].at("nmse").empty());  // 0/0 for the all-zero layer: empty, not "nan"
      REQUIRE(test::RunGradquant("decompress " + c + " -o " + r).exitCode == 0);
      const Dump a = Dump::Open({c}), b = Dump::Open({r});
      for (std::size_t l = 0; l < names.size(); ++l) {
        CHECK(a.Layers()[l].name == names[l]);
        for (std::size_t s = 0; s < 2; ++s) {
          for (std::size_t w = 0; w < 3; ++w) {
            const arma::fvec x = a.ReadSlab(l, s, w), y = b.ReadSlab(l, s, w);  // finite
            CHECK(std::memcmp(x.memptr(), y.memptr(), x.n_elem * sizeof(float)) == 0);
          }
        }
      }
    }
  }
  // --layers matches unusual names literally.
  const auto sel = test::RunGradquant("compress " + dump + " -q dqsg -o " + (dir / "sel.h5") +
                                      " --layers 'ünïcødé|with spaces' --format csv");
  REQUIRE(sel.exitCode == 0);
  const auto csv = test::ParseCsv(sel.out);
  REQUIRE(csv.rows.size() == 3);
  CHECK(csv.rows[0].at("layer") == "layer with spaces");
  CHECK(csv.rows[1].at("layer") == "ünïcødé.wéight");
}

TEST_CASE("Unknown quantizers and parameters are usage errors", "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = dir / "d.h5", out = dir / "out.h5";
  test::Forge(dump, test::ValidSpec());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nosuch", "unknown quantizer 'nosuch'"},
      {"dqsg:levels=3", "dqsg: unknown parameter 'levels'"},
      {"qsgd:s=-1", "qsgd: s=-1"},
      {"qsgd:norm=l7", "qsgd: norm=l7"},
      {"dqsg:s", "dqsg:s"}};
  for (const auto& [spec, says] : cases) {
    const auto run = test::RunGradquant("compress " + dump + " -q '" + spec + "' -o " + out);
    Show("-q " + spec, run);
    INFO(run.err);
    CHECK(run.exitCode == 1);
    CHECK(test::Lines(run.err) == 1);
    CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: ") && Catch::Contains(says));
    CHECK_FALSE(std::filesystem::exists(out));
  }
}

TEST_CASE("Unwritable outputs fail before any work and leave nothing", "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = dir / "d.h5";
  test::Forge(dump, test::ValidSpec());
  std::ofstream(dir / "plain") << "x";
  std::filesystem::create_directory(dir / "folder");
  const std::vector<std::tuple<std::string, int, std::string>> cases = {
      {dir / "missing/out.h5", 2, "cannot create the output file (No such file or directory)"},
      {dir / "plain/out.h5", 2, "cannot create the output file (Not a directory)"},
      {dir / "folder", 2, "output path is a directory"},
      {dir / "folder/", 2, "output path names a folder"},
      {"/dev/full", 2, "exists and is not a regular file; refusing to replace it"},
      {"/dev/null", 2, "exists and is not a regular file; refusing to replace it"},
      {dump, 1, "is also an input; refusing to replace it"}};
  const auto before = test::Entries(dir.Path());
  for (const auto& [output, code, says] : cases) {
    const auto run = test::RunGradquant("compress " + dump + " -q dqsg -o '" + output + "'");
    Show("-o " + output, run);
    INFO(output << ": " << run.err);
    CHECK(run.exitCode == code);
    CHECK(test::Lines(run.err) == 1);
    CHECK_THAT(run.err, Catch::Contains(says));
    CHECK(test::Entries(dir.Path()) == before);
    CHECK(test::Entries(dir / "folder").empty());
  }
  CHECK(std::filesystem::is_character_file("/dev/full"));
  CHECK(Dump::Open({dump}).Layers().size() == 2);  // the input survived
}

TEST_CASE("A full stdout fails with exit 2 and no output file", "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = dir / "d.h5", out = dir / "out.h5";
  test::Forge(dump, test::ValidSpec());
  for (const char* format : {"csv", "json", "table"}) {
    const auto run = test::RunGradquantTo(
        "compress " + dump + " -q dqsg -o " + out + " --format " + format, "/dev/full");
    Show(std::string("compress --format ") + format + " >/dev/full", run);
    INFO(run.err);
    CHECK(run.exitCode == 2);
    CHECK(run.err == "gradquant: error: stdout: write failed (No space left on device)\n");
    CHECK_FALSE(std::filesystem::exists(out));  // the report failed, so the run did
    CHECK(test::Entries(dir.Path()) == std::vector<std::string>{"d.h5"});
  }
  REQUIRE(test::RunGradquant("compress " + dump + " -q dqsg -o " + out).exitCode == 0);
  const std::vector<std::string> commands = {"info " + dump, "list", "list --format csv", "--help",
                                             "decompress " + out + " -o " + (dir / "r.h5")};
  for (const auto& args : commands) {
    const auto run = test::RunGradquantTo(args, "/dev/full");
    Show(args + " >/dev/full", run);
    INFO(args << ": " << run.err);
    CHECK(run.exitCode == 2);
    CHECK_THAT(run.err, Catch::Contains("stdout: write failed"));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "r.h5"));
}

}  // namespace gradquant
