// The dump reader (io/dump.hpp): round trips through the writers, the accepted variants of
// docs/format.md, and every malformed file, each of which must throw IoError naming file and
// object.
#include "gradquant/io/dump.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include "gradquant/core/error.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

using test::ForgeSpec;
using test::ForgeType;

// Runs @p body and requires an IoError whose text contains every one of @p parts.
void RequireIoError(const std::function<void()>& body, const std::vector<std::string>& parts) {
  try {
    body();
  } catch (const IoError& e) {
    INFO("IoError: " << e.what());
    for (const auto& p : parts) CHECK_THAT(e.what(), Catch::Contains(p));
    return;
  }
  FAIL("no IoError thrown (expected one naming " << parts.at(0) << ")");
}

void RequireOpenFails(const std::vector<std::string>& paths,
                      const std::vector<std::string>& parts) {
  RequireIoError([&] { Dump::Open(paths); }, parts);
}

// Forges @p spec after @p edit and requires Open to fail naming the file and @p parts.
void RequireForgedFails(const std::function<void(ForgeSpec&)>& edit,
                        const std::vector<std::string>& parts) {
  test::TempDir dir;
  const std::string path = dir / "bad.h5";
  ForgeSpec spec = test::ValidSpec();
  edit(spec);
  test::Forge(path, spec);
  std::vector<std::string> all = {path};
  all.insert(all.end(), parts.begin(), parts.end());
  RequireOpenFails({path}, all);
}

std::vector<LayerInfo> TwoLayers() {
  return {test::Layer({3, 4}, "w", 0), test::Layer({5}, "b", 1)};
}

}  // namespace

TEST_CASE("DumpWriter output reads back exactly through Dump", "[io]") {
  test::TempDir dir;
  const std::string path = dir / "rt.h5";
  const auto layers = TwoLayers();
  const std::vector<std::int64_t> steps = {3, 7, 100};
  const std::size_t workers = 2;
  auto slab = [](std::size_t l, std::size_t s, std::size_t w, std::size_t n) {
    return test::GaussianSlab(n, 1.0, 1000 * l + 10 * s + w);
  };
  {
    OutputFile out(path);
    RootAttributes attrs;
    attrs.strings["model"] = "tiny";
    attrs.integers["batch_size"] = 32;
    DumpWriter writer(out, steps, workers, layers, attrs, /*withAggregate=*/true);
    for (std::size_t l = 0; l < layers.size(); ++l) {
      for (std::size_t s = 0; s < steps.size(); ++s) {
        for (std::size_t w = 0; w < workers; ++w) {
          writer.WriteSlab(l, s, w, slab(l, s, w, layers[l].n).memptr());
        }
        writer.WriteAggregate(l, s, slab(l, s, 9, layers[l].n).memptr());
      }
    }
    out.Commit();
  }
  const Dump dump = Dump::Open({path});
  CHECK(dump.Steps() == steps);
  CHECK(dump.Workers() == workers);
  REQUIRE(dump.Layers().size() == 2);
  CHECK(dump.Layers()[0].name == "w");
  CHECK(dump.Layers()[0].shape == std::vector<std::uint64_t>{3, 4});
  CHECK(dump.Layers()[1].name == "b");
  CHECK(dump.Layers()[1].index == 1);
  CHECK(dump.Files().at(0).attributes.at("model") == "tiny");
  CHECK(dump.Files().at(0).attributes.at("batch_size") == "32");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (std::size_t s = 0; s < steps.size(); ++s) {
      for (std::size_t w = 0; w < workers; ++w) {
        const arma::fvec got = dump.ReadSlab(l, s, w);
        const arma::fvec want = slab(l, s, w, layers[l].n);
        REQUIRE(got.n_elem == want.n_elem);
        for (std::size_t i = 0; i < got.n_elem; ++i) REQUIRE(got[i] == want[i]);  // exact
      }
    }
  }
  const auto agg = test::ReadFloats(path, "aggregate/w");
  const arma::fvec want = slab(0, 2, 9, 12);
  REQUIRE(agg.size() == 3 * 12);
  for (std::size_t i = 0; i < 12; ++i) CHECK(agg[2 * 12 + i] == want[i]);
}

TEST_CASE("Dump converts float64 and float16 gradients and reads any chunking and filters",
          "[io]") {
  // Float32 slabs are read by gradquant's own reader (outside HDF5's lock); other types go
  // through H5Dread. Both must give the stored values.
  struct Variant {
    ForgeType type;
    std::vector<std::uint64_t> chunks;
    bool filters;
    std::uint64_t userblock;
    const char* what;
  };
  const std::vector<Variant> variants = {
      {ForgeType::kFloat32, {}, false, 0, "float32 contiguous"},
      {ForgeType::kFloat32, {}, false, 1024, "float32 contiguous after a user block"},
      {ForgeType::kFloat64, {}, false, 0, "float64 contiguous"},
      {ForgeType::kFloat16, {}, false, 0, "float16 contiguous"},
      {ForgeType::kFloat32, {1, 2, 4}, false, 0, "float32 odd chunks"},
      {ForgeType::kFloat32, {2, 1, 3}, true, 0, "float32 deflate+shuffle+fletcher32"},
      {ForgeType::kFloat32, {3, 2, 5}, true, 512, "float32 filtered chunks after a user block"},
      {ForgeType::kFloat64, {1, 1, 6}, true, 0, "float64 deflate+shuffle+fletcher32"},
      {ForgeType::kFloat16, {1, 1, 2}, true, 0, "float16 deflate+shuffle+fletcher32"}};
  for (const auto& v : variants) {
    DYNAMIC_SECTION(v.what) {
      test::TempDir dir;
      const std::string path = dir / "v.h5";
      ForgeSpec spec = test::ValidSpec(3, 2);
      spec.userblock = v.userblock;
      for (auto& layer : spec.layers) {
        layer.type = v.type;
        layer.chunks = v.chunks;
        layer.deflateShuffle = v.filters;
        if (!layer.chunks.empty()) layer.chunks[2] = std::min(layer.chunks[2], layer.dims[2]);
      }
      test::Forge(path, spec);
      const Dump dump = Dump::Open({path});
      REQUIRE(dump.Records() == 3);
      REQUIRE(dump.Workers() == 2);
      for (std::size_t l = 0; l < 2; ++l) {
        for (std::size_t s = 0; s < 3; ++s) {
          for (std::size_t w = 0; w < 2; ++w) {
            const arma::fvec got = dump.ReadSlab(l, s, w);
            for (std::size_t i = 0; i < got.n_elem; ++i) {
              REQUIRE(got[i] == static_cast<float>(test::ForgeValue(l, s, w, i)));
            }
          }
        }
      }
      const SlabReadCounts counts = dump.ReadCounts();
      const bool direct = v.type == ForgeType::kFloat32;
      CHECK(counts.direct == (direct ? 12u : 0u));
      CHECK(counts.library == (direct ? 0u : 12u));
    }
  }
}

TEST_CASE("Several files are one dump with their workers concatenated in order", "[io]") {
  test::TempDir dir;
  ForgeSpec first = test::ValidSpec(2, 2), second = test::ValidSpec(2, 3);
  second.value = [](std::size_t l, std::size_t s, std::size_t w, std::size_t i) {
    return test::ForgeValue(l, s, w, i) + 100.0;
  };
  test::Forge(dir / "a.h5", first);
  test::Forge(dir / "b.h5", second);
  const Dump dump = Dump::Open({dir / "a.h5", dir / "b.h5"});
  REQUIRE(dump.Workers() == 5);
  REQUIRE(dump.Files().size() == 2);
  CHECK(dump.Files()[1].firstWorker == 2);
  CHECK(dump.Files()[1].workers == 3);
  for (std::size_t w = 0; w < 5; ++w) {
    const arma::fvec got = dump.ReadSlab(1, 1, w);
    const bool fromSecond = w >= 2;
    const std::size_t local = fromSecond ? w - 2 : w;
    for (std::size_t i = 0; i < got.n_elem; ++i) {
      CHECK(got[i] ==
            static_cast<float>(test::ForgeValue(1, 1, local, i) + (fromSecond ? 100 : 0)));
    }
  }
}

TEST_CASE("Layer order follows the 'order' attribute, else the sorted member names", "[io]") {
  test::TempDir dir;
  ForgeSpec spec = test::ValidSpec();
  spec.layers.push_back({"0.first", {2, 2, 3}, std::nullopt, ForgeType::kFloat32, {}, false});
  spec.order = std::vector<std::string>{"b.bias", "0.first", "a"};
  test::Forge(dir / "ordered.h5", spec);
  const Dump ordered = Dump::Open({dir / "ordered.h5"});
  REQUIRE(ordered.Layers().size() == 3);
  CHECK(ordered.Layers()[0].name == "b.bias");
  CHECK(ordered.Layers()[1].name == "0.first");
  CHECK(ordered.Layers()[1].shape == std::vector<std::uint64_t>{3});  // no attribute: [N]
  CHECK(ordered.Layers()[2].name == "a");
  CHECK(ordered.Layers()[2].index == 2);

  spec.order.reset();
  test::Forge(dir / "sorted.h5", spec);
  const Dump sorted = Dump::Open({dir / "sorted.h5"});
  REQUIRE(sorted.Layers().size() == 3);
  CHECK(sorted.Layers()[0].name == "0.first");
  CHECK(sorted.Layers()[1].name == "a");
  CHECK(sorted.Layers()[2].name == "b.bias");
  // Reading follows the order too: layer 2 of the sorted dump is b.bias (ForgeSpec index 1).
  CHECK(sorted.ReadSlab(2, 0, 0)[0] == static_cast<float>(test::ForgeValue(1, 0, 0, 0)));
}

TEST_CASE("Dump rejects files that are not dumps, naming the file", "[io]") {
  test::TempDir dir;
  SECTION("missing file") {
    RequireOpenFails({dir / "nope.h5"}, {dir / "nope.h5", "no such file"});
  }
  SECTION("a directory") {
    RequireOpenFails({dir.Path().string()}, {dir.Path().string(), "directory"});
  }
  SECTION("an empty file") {
    std::ofstream(dir / "empty.h5").close();
    RequireOpenFails({dir / "empty.h5"}, {dir / "empty.h5", "empty"});
  }
  SECTION("a text file") {
    std::ofstream(dir / "notes.h5") << "step,loss\n0,2.3\n";
    RequireOpenFails({dir / "notes.h5"}, {dir / "notes.h5", "not an HDF5 file"});
  }
  SECTION("a truncated HDF5 file") {
    test::Forge(dir / "full.h5", test::ValidSpec());
    const auto size = test::FileSize(dir / "full.h5");
    for (std::uint64_t keep : {size / 2, size - 1, std::uint64_t{700}}) {
      INFO("kept " << keep << " of " << size << " bytes");
      test::CopyPrefix(dir / "full.h5", dir / "cut.h5", keep);
      RequireOpenFails({dir / "cut.h5"}, {dir / "cut.h5"});
    }
  }
  SECTION("no paths") { RequireOpenFails({}, {"no dump file"}); }
}

TEST_CASE("Dump rejects every layout error with the file, the object and the problem", "[io]") {
  SECTION("wrong gradquant_format") {
    RequireForgedFails([](ForgeSpec& s) { s.format = "messages"; },
                       {"gradquant_format", "'messages'"});
  }
  SECTION("missing gradquant_format") {
    RequireForgedFails([](ForgeSpec& s) { s.format.reset(); }, {"/", "gradquant_format"});
  }
  SECTION("wrong gradquant_version") {
    RequireForgedFails([](ForgeSpec& s) { s.version = 2; }, {"gradquant_version is 2"});
  }
  SECTION("missing gradquant_version") {
    RequireForgedFails([](ForgeSpec& s) { s.version.reset(); }, {"gradquant_version"});
  }
  SECTION("missing /steps") {
    RequireForgedFails([](ForgeSpec& s) { s.steps.reset(); }, {"/steps", "missing"});
  }
  SECTION("missing /gradients") {
    RequireForgedFails([](ForgeSpec& s) { s.withGradients = false; }, {"/gradients", "missing"});
  }
  SECTION("/steps not increasing") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.steps = std::vector<std::int64_t>{10, 10};
        },
        {"/steps", "not strictly increasing"});
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.steps = std::vector<std::int64_t>{10, 3};
        },
        {"/steps", "not strictly increasing"});
  }
  SECTION("S = 0") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.steps = std::vector<std::int64_t>{};
          for (auto& l : s.layers) l.dims[0] = 0;
        },
        {"/steps", "S = 0"});
  }
  SECTION("a layer with the wrong rank") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.layers[0].dims = {2, 12};
        },
        {"/gradients/a", "has 2 axes, expected 3"});
  }
  SECTION("a non-float layer") {
    RequireForgedFails([](ForgeSpec& s) { s.layers[1].type = ForgeType::kInt32; },
                       {"/gradients/b.bias", "not a floating-point"});
  }
  SECTION("N disagrees with the shape attribute") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.layers[0].shape = std::vector<std::int64_t>{2, 4};
        },
        {"/gradients/a", "attribute 'shape' has product 8 but N = 6"});
  }
  SECTION("a non-positive shape extent") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.layers[0].shape = std::vector<std::int64_t>{-2, -3};
        },
        {"/gradients/a", "non-positive"});
  }
  SECTION("a shape attribute whose product wraps around to N") {
    // (2^32 + 1)(2^32 - 1) = 2^64 - 1 = -1 (mod 2^64), so this product wraps to exactly 6 = N.
    RequireForgedFails(
        [](ForgeSpec& s) {
          const std::int64_t up = (std::int64_t{1} << 32) + 1, down = (std::int64_t{1} << 32) - 1;
          s.layers[0].shape = std::vector<std::int64_t>{up, down, up, down, 6};
        },
        {"/gradients/a", "product over 2^64"});
  }
  SECTION("W = 0") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          for (auto& l : s.layers) l.dims[1] = 0;
        },
        {"/gradients/a", "W = 0"});
  }
  SECTION("N = 0") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.layers[1].dims[2] = 0;
          s.layers[1].shape.reset();
        },
        {"/gradients/b.bias", "N = 0"});
  }
  SECTION("layers with different W") {
    RequireForgedFails([](ForgeSpec& s) { s.layers[1].dims[1] = 3; },
                       {"/gradients/b.bias", "3 workers"});
  }
  SECTION("a layer with fewer records than /steps") {
    RequireForgedFails([](ForgeSpec& s) { s.layers[0].dims[0] = 1; },
                       {"/gradients/a", "1 records but /steps has 2"});
  }
  SECTION("root attribute workers disagrees") {
    RequireForgedFails([](ForgeSpec& s) { s.workersAttr = 5; }, {"workers = 5"});
  }
  SECTION("'order' names a missing layer") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.order = std::vector<std::string>{"a", "zz"};
        },
        {"attribute 'order'", "'zz'"});
  }
  SECTION("'order' leaves a layer out") {
    RequireForgedFails([](ForgeSpec& s) { s.order = std::vector<std::string>{"a"}; },
                       {"attribute 'order'", "lists 1 names"});
  }
  SECTION("an empty /gradients") {
    RequireForgedFails(
        [](ForgeSpec& s) {
          s.layers.clear();
          s.order.reset();
        },
        {"/gradients", "no parameters"});
  }
}

TEST_CASE("Dump rejects several files that disagree", "[io]") {
  test::TempDir dir;
  const std::string a = dir / "a.h5", b = dir / "b.h5";
  test::Forge(a, test::ValidSpec());
  SECTION("different steps") {
    ForgeSpec spec = test::ValidSpec();
    spec.steps = std::vector<std::int64_t>{0, 11};
    test::Forge(b, spec);
    RequireOpenFails({a, b}, {b, "/steps", "differs"});
  }
  SECTION("different record counts") {
    test::Forge(b, test::ValidSpec(3, 2));
    RequireOpenFails({a, b}, {b, "/steps"});
  }
  SECTION("different names") {
    ForgeSpec spec = test::ValidSpec();
    spec.layers[1].name = "c.bias";
    spec.order = std::vector<std::string>{"a", "c.bias"};
    test::Forge(b, spec);
    RequireOpenFails({a, b}, {b, "/gradients/c.bias", "does not match", "'b.bias'"});
  }
  SECTION("different sizes") {
    ForgeSpec spec = test::ValidSpec();
    spec.layers[1].dims[2] = 5;
    spec.layers[1].shape = std::vector<std::int64_t>{5};
    test::Forge(b, spec);
    RequireOpenFails({a, b}, {b, "/gradients/b.bias", "N = 4"});
  }
  SECTION("different layer counts") {
    ForgeSpec spec = test::ValidSpec();
    spec.layers.pop_back();
    spec.order = std::vector<std::string>{"a"};
    test::Forge(b, spec);
    RequireOpenFails({a, b}, {b, "/gradients", "1 parameters but the first file has 2"});
  }
}

TEST_CASE("ReadSlab rejects NaN and Inf naming layer, record, worker and index", "[io]") {
  test::TempDir dir;
  const std::string path = dir / "nan.h5";
  test::Forge(path, test::ValidSpec(3, 2));
  SECTION("NaN") {
    test::PokeGradient(path, "a", 2, 1, 5, std::numeric_limits<float>::quiet_NaN());
    const Dump dump = Dump::Open({path});
    CHECK(dump.ReadSlab(0, 2, 0).is_finite());  // other slabs are fine
    RequireIoError([&] { dump.ReadSlab(0, 2, 1); },
                   {path, "/gradients/a", "NaN", "record 2", "worker 1", "index 5"});
  }
  SECTION("Inf") {
    test::PokeGradient(path, "b.bias", 0, 0, 3, -std::numeric_limits<float>::infinity());
    const Dump dump = Dump::Open({path});
    RequireIoError([&] { dump.ReadSlab(1, 0, 0); },
                   {path, "/gradients/b.bias", "Inf", "record 0", "worker 0", "index 3"});
  }
}

TEST_CASE("OutputFile leaves nothing behind unless committed", "[io]") {
  test::TempDir dir;
  const std::string path = dir / "out.h5";
  auto entries = [&] {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.Path())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  };
  SECTION("destroyed without Commit: no file, no temporary") {
    {
      OutputFile out(path);
      DumpWriter writer(out, {0}, 1, {test::Layer({4}, "x")}, {}, false);
      CHECK(std::filesystem::exists(out.TempPath()));
    }
    CHECK(entries().empty());
  }
  SECTION("an existing output is replaced only on Commit") {
    std::ofstream(path) << "old";
    {
      OutputFile out(path);
      DumpWriter writer(out, {0}, 1, {test::Layer({4}, "x")}, {}, false);
      std::ifstream in(path);
      std::string text;
      in >> text;
      CHECK(text == "old");  // untouched while the new one is written
    }
    CHECK(entries() == std::vector<std::string>{"out.h5"});
    {
      std::ifstream in(path);
      std::string text;
      in >> text;
      CHECK(text == "old");  // untouched after a failed run
    }
    {
      OutputFile out(path);
      DumpWriter writer(out, {0}, 1, {test::Layer({4}, "x")}, {}, false);
      const float zeros[4] = {0, 0, 0, 0};
      writer.WriteSlab(0, 0, 0, zeros);
      out.Commit();
    }
    CHECK(entries() == std::vector<std::string>{"out.h5"});
    CHECK(Dump::Open({path}).Layers().at(0).name == "x");
  }
  SECTION("an unwritable folder") {
    RequireIoError([&] { OutputFile out(dir / "missing/out.h5"); }, {dir / "missing/out.h5"});
    std::ofstream(dir / "plain") << "x";
    RequireIoError([&] { OutputFile out(dir / "plain/out.h5"); }, {dir / "plain/out.h5"});
    RequireIoError([&] { OutputFile out(dir / "folder/"); }, {"folder"});
    CHECK(entries() == std::vector<std::string>{"plain"});
  }
}

}  // namespace gradquant
