// Issue 19: a dump from someone else is safe to open. gradquant never reads outside the file it
// was given (external and soft links, external raw storage, virtual datasets are refused), does
// not trust the 'order' attribute or the layer names, never writes through a link, and binds the
// shape a decoder uses to the message checksum. Each case runs the real binary and requires one
// line on stderr, exit 2 (3 for a corrupt message) and no output left behind.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "cli/cli_util.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/pipeline/selection.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

using test::ForgeSpec;

// compress and analyze of @p dump both fail with exit 2, one line naming @p parts, no output.
void RequireRefused(const test::TempDir& dir, const std::string& dump,
                    const std::vector<std::string>& parts) {
  const std::string out = dir / "out.h5";
  for (const std::string& command : {"compress " + dump + " -q dqsg:s=3 -o " + out,
                                     "analyze " + dump + " -q dqsg:s=3 --trials 1"}) {
    const auto run = test::RunGradquant(command + " --format csv");
    INFO(command << "\nstderr: " << run.err);
    CHECK(run.exitCode == 2);
    CHECK(test::Lines(run.err) == 1);
    CHECK(run.out.empty());
    CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: " + dump + ": "));
    for (const auto& p : parts) CHECK_THAT(run.err, Catch::Contains(p));
    CHECK_FALSE(std::filesystem::exists(out));
  }
  for (const auto& e : test::Entries(dir.Path())) CHECK(e.find(".tmp.") == std::string::npos);
}

// A valid forged dump at dir/name after @p edit of its spec.
std::string Forged(const test::TempDir& dir, const std::string& name,
                   const std::function<void(ForgeSpec&)>& edit = {}) {
  ForgeSpec spec = test::ValidSpec();
  if (edit) edit(spec);
  const std::string path = dir / name;
  test::Forge(path, spec);
  return path;
}

}  // namespace

TEST_CASE("A dump that points outside itself is refused before any value is read",
          "[cli][hostile]") {
  test::TempDir dir;
  const std::string other = Forged(dir, "other.h5");
  REQUIRE(test::RunGradquant("info " + other).exitCode == 0);  // the forged file itself is valid
  const std::string bad = dir / "bad.h5";
  SECTION("/gradients is an external link to another dump") {
    Forged(dir, "bad.h5");
    test::AddLink(bad, "gradients", test::LinkKind::kExternal, other + ":/gradients");
    RequireRefused(dir, bad,
                   {"/gradients is an external link to another file",
                    "reads only what is stored in the file itself"});
  }
  SECTION("a layer is an external link") {
    Forged(dir, "bad.h5");
    test::AddLink(bad, "gradients/a", test::LinkKind::kExternal, other + ":/gradients/a");
    RequireRefused(dir, bad, {"/gradients/a is an external link"});
  }
  SECTION("an external link anywhere in the file, even where gradquant does not look") {
    Forged(dir, "bad.h5");
    test::AddLink(bad, "elsewhere", test::LinkKind::kExternal, "/etc/passwd:/x");
    RequireRefused(dir, bad, {"/elsewhere is an external link"});
  }
  SECTION("a soft link") {
    Forged(dir, "bad.h5");
    test::AddLink(bad, "gradients/a", test::LinkKind::kSoft, "/gradients/b.bias");
    RequireRefused(dir, bad, {"/gradients/a is a soft link"});
  }
  SECTION("external raw storage: the values are the bytes of another file") {
    const std::string raw = dir / "secret.txt";
    std::ofstream(raw) << std::string(4 * 2 * 2 * 6, 'x');
    Forged(dir, "bad.h5");
    test::ReplaceStorage(bad, "a", test::StorageKind::kExternalRaw, raw);
    RequireRefused(dir, bad, {"/gradients/a keeps its values in external files"});
  }
  SECTION("a virtual dataset, its source present or missing") {
    for (const std::string& source : {other + ":/gradients/a", dir / "missing.h5:/gradients/a"}) {
      Forged(dir, "bad.h5");
      test::ReplaceStorage(bad, "a", test::StorageKind::kVirtual, source);
      RequireRefused(dir, bad, {"/gradients/a is a virtual dataset"});
    }
  }
}

TEST_CASE("The order attribute and the layer names are checked, not trusted", "[cli][hostile]") {
  test::TempDir dir;
  SECTION("a layer listed twice") {
    const std::string bad = Forged(dir, "bad.h5", [](ForgeSpec& s) {
      s.order = std::vector<std::string>{"a", "a"};
    });
    RequireRefused(dir, bad, {"/gradients attribute 'order'", "lists 'a' twice"});
  }
  SECTION("a path instead of a member name") {
    for (const char* name : {"/steps", "../steps", "a/b", "."}) {
      const std::string bad = Forged(dir, "bad.h5", [&](ForgeSpec& s) {
        s.order = std::vector<std::string>{"a", std::string(name)};
      });
      RequireRefused(dir, bad, {"/gradients attribute 'order'", "is a path"});
    }
  }
  SECTION("a name longer than the limit") {
    const std::string name(kMaxLayerName + 1, 'n');
    const std::string bad = Forged(dir, "bad.h5", [&](ForgeSpec& s) {
      s.layers[1].name = name;
      s.order.reset();
    });
    RequireRefused(dir, bad, {"/gradients", std::to_string(kMaxLayerName + 1) + " characters"});
  }
  SECTION("a control character in a name (a newline would break the one-line error)") {
    const std::string bad = Forged(dir, "bad.h5", [&](ForgeSpec& s) {
      s.layers[1].name = "b\nbias";
      s.order.reset();
    });
    RequireRefused(dir, bad, {"/gradients", "control character"});
  }
  SECTION("a name at the limit works, with the default and an explicit --layers") {
    const std::string name(kMaxLayerName, 'n');
    const std::string good = Forged(dir, "good.h5", [&](ForgeSpec& s) {
      s.layers[1].name = name;
      s.order.reset();
    });
    for (const char* layers : {"", " --layers '(n|m)*$'"}) {
      const auto run = test::RunGradquant("compress " + good + " -q dqsg:s=3 -o " +
                                          (dir / "out.h5") + layers + " --format csv");
      INFO(run.err);
      CHECK(run.exitCode == 0);
      CHECK_THAT(run.out, Catch::Contains(name));
    }
  }
}

TEST_CASE("Layer patterns of --layers are matched in bounded time and length", "[cli][hostile]") {
  test::TempDir dir;
  const std::string dump = Forged(dir, "d.h5", [](ForgeSpec& s) {
    s.layers[1].name = std::string(kMaxLayerName, 'a');
    s.order.reset();
  });
  // Exponential for a backtracking matcher on a 1024-character name; linear breadth-first.
  const auto nested = test::RunGradquant("compress " + dump + " -q fp32 -o " + (dir / "o.h5") +
                                         " --layers '(a*)*b' --format csv");
  INFO(nested.err);
  CHECK(nested.exitCode == 1);
  CHECK_THAT(nested.err, Catch::Contains("matches no layer"));
  const auto huge = test::RunGradquant("compress " + dump + " -q fp32 -o " + (dir / "o.h5") +
                                       " --layers '" + std::string(kMaxLayerRegex + 1, 'a') + "'");
  CHECK(huge.exitCode == 1);
  CHECK_THAT(huge.err, Catch::Contains("at most " + std::to_string(kMaxLayerRegex)));
  CHECK_FALSE(std::filesystem::exists(dir / "o.h5"));
}

TEST_CASE("Outputs are never written through a link and fit any legal name", "[io][hostile]") {
  test::TempDir dir;
  const std::vector<LayerInfo> layers = {test::Layer({4}, "x")};
  const float zeros[4] = {0, 0, 0, 0};
  auto write = [&](const std::string& path) {
    OutputFile out(path);
    struct stat st {};
    REQUIRE(lstat(out.TempPath().c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));  // created by us, not a link someone planted
    CHECK(std::filesystem::path(out.TempPath()).parent_path() ==
          std::filesystem::path(path).parent_path());
    DumpWriter writer(out, {0}, 1, layers, {}, false);
    writer.WriteSlab(0, 0, 0, zeros);
    out.Commit();
  };
  SECTION("a symbolic link at the target is replaced; the file it pointed to is untouched") {
    const std::string victim = dir / "victim.txt", target = dir / "out.h5";
    std::ofstream(victim) << "precious";
    std::filesystem::create_symlink(victim, target);
    write(target);
    CHECK_FALSE(std::filesystem::is_symlink(target));
    CHECK(Dump::Open({target}).Layers().at(0).name == "x");
    std::ifstream in(victim);
    std::string text;
    in >> text;
    CHECK(text == "precious");
  }
  SECTION("temporary names are fresh each time, not derived from the PID alone") {
    OutputFile a(dir / "out.h5"), b(dir / "out.h5");
    CHECK(a.TempPath() != b.TempPath());
  }
  SECTION("a 255-character output name (NAME_MAX)") {
    const std::string target = dir / (std::string(NAME_MAX - 3, 'o') + ".h5");
    write(target);
    CHECK(std::filesystem::exists(target));
    CHECK(test::Entries(dir.Path()).size() == 1);
  }
}

TEST_CASE("A file size limit (ulimit -f, as a full disk) fails cleanly", "[cli][hostile]") {
  // Writes past the limit fail with EFBIG (gradquant ignores SIGXFSZ); before the fix the run
  // was killed by the signal and left its temporary file, and a full disk crashed in cleanup.
  test::TempDir dir;
  const std::string sample = test::SourcePath("data/fmnist_cnn.h5"), out = dir / "out.h5";
  const char* wrapper = std::getenv("GRADQUANT_TEST_WRAPPER");
  const test::ScopedEnv limit("GRADQUANT_TEST_WRAPPER",
                              std::string("ulimit -f 128; ") + (wrapper ? wrapper : ""));
  for (const std::string& command :
       {"compress " + sample + " -q fp32 -o " + out, "compress " + sample + " -q dqsg -o " + out}) {
    const auto run = test::RunGradquant(command + " --format csv");
    INFO(command << "\nstderr: " << run.err);
    CHECK(run.exitCode == 2);
    CHECK(test::Lines(run.err) == 1);
    CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: " + out + ": writing failed") &&
                            Catch::Contains("File too large"));
    CHECK(run.out.empty());  // the report comes only after the file is safely written
    CHECK(test::Entries(dir.Path()).empty());
  }
}

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

// A wrapper that runs the binary with at most @p n descriptors, 0 to n-1: an inner bash closes
// what it inherited beyond stdin, stdout and stderr (ctest's pipes, say), then sets the limit;
// the outer shell keeps descriptors of its own for the redirections.
std::string LimitFds(int n) {
  return "bash -c 'for fd in $(ls /proc/$$/fd); do [ $fd -gt 2 ] && eval \"exec $fd>&-\"; "
         "done; ulimit -n " +
         std::to_string(n) + "; exec \"$0\" \"$@\"'";
}

}  // namespace

TEST_CASE("Few file descriptors (ulimit -n): the reason is named, not 'not an HDF5 file'",
          "[cli][hostile]") {
  test::TempDir dir;
  const std::string sample = test::SourcePath("data/fmnist_cnn.h5"), out = dir / "out.h5";
  // A tool such as valgrind, and the sanitizer runtimes (UBSan's vptr checks fail without
  // descriptors of their own), need more than the limit: the limit is gradquant's to meet alone.
  if (std::getenv("GRADQUANT_TEST_WRAPPER") || kSanitized) return;
  {
    // One descriptor beyond stdin, stdout and stderr: enough to read a dump, not to write.
    const test::ScopedEnv limit("GRADQUANT_TEST_WRAPPER", LimitFds(4));
    const auto info = test::RunGradquant("info " + sample + " --format csv");
    INFO(info.err);
    CHECK(info.exitCode == 0);
  }
  const test::ScopedEnv limit("GRADQUANT_TEST_WRAPPER", LimitFds(5));
  const auto run =
      test::RunGradquant("compress " + sample + " -q dqsg -o " + out + " --format csv");
  INFO(run.err);
  CHECK(run.exitCode == 2);
  CHECK(test::Lines(run.err) == 1);
  CHECK_THAT(run.err, Catch::Contains("Too many open files"));
  CHECK(test::Entries(dir.Path()).empty());
}

TEST_CASE("An absurd OMP_NUM_THREADS is lowered, not a crash", "[cli][hostile]") {
  test::TempDir dir;
  const std::string out = dir / "out.h5";
  const test::ScopedEnv threads("OMP_NUM_THREADS", "100000");
  const auto run = test::RunGradquant("compress " + test::SourcePath("data/fmnist_cnn.h5") +
                                      " -q dqsg -o " + out + " --records 0:2 --format csv");
  INFO(run.err);
  CHECK(run.exitCode == 0);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: warning: 100000 OpenMP threads asked for"));
  CHECK(std::filesystem::exists(out));
}

TEST_CASE("A stored spec gradquant does not know is a corrupt file (exit 3)", "[cli][hostile]") {
  test::TempDir dir;
  const std::string file = dir / "c.h5";
  REQUIRE(test::RunGradquant("compress " + test::SourcePath("data/fmnist_cnn.h5") + " -q dqsg -o " +
                             file + " --records 0:1 --format csv")
              .exitCode == 0);
  test::ReplaceStringAttr(file, "/", "quantizer", "nosuch:s=3");
  const auto run = test::RunGradquant("decompress " + file + " -o " + (dir / "r.h5"));
  INFO(run.err);
  CHECK(run.exitCode == 3);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: " + file +
                                        ": / attribute quantizer is not a valid spec"));
}

TEST_CASE("An error stays one line when a path holds a newline", "[cli][hostile]") {
  const auto run = test::RunGradquant("info '/nonexistent/a\nb.h5'");
  CHECK(run.exitCode == 2);
  CHECK(test::Lines(run.err) == 1);
  CHECK_THAT(run.err, Catch::Contains("a\\nb.h5"));
}

TEST_CASE("Thousands of layers: the order attribute beyond HDF5's 64 KiB header message",
          "[io][hostile]") {
  test::TempDir dir;
  std::vector<LayerInfo> layers;
  for (std::uint32_t i = 0; i < 5000; ++i) {
    layers.push_back(test::Layer({1}, "model.block." + std::to_string(i) + ".weight", i));
  }
  const std::string path = dir / "many.h5";
  {
    OutputFile out(path);
    DumpWriter writer(out, {0}, 1, layers, {}, false);
    const float one = 1.0f;
    for (std::size_t l = 0; l < layers.size(); ++l) writer.WriteSlab(l, 0, 0, &one);
    out.Commit();
  }
  const Dump dump = Dump::Open({path});
  REQUIRE(dump.Layers().size() == layers.size());
  CHECK(dump.Layers().back().name == "model.block.4999.weight");
}

TEST_CASE("The checksum binds the shape: a transposed shape is a corrupt message",
          "[cli][hostile]") {
  test::TempDir dir;
  const std::string sample = test::SourcePath("data/fmnist_cnn.h5");
  const std::vector<std::pair<std::string, std::string>> cases = {{"powersgd:rank=2", "fc1.weight"},
                                                                  {"gradiveq", "conv2.weight"}};
  for (const auto& [spec, layer] : cases) {
    const std::string file = dir / "c.h5";
    const auto run = test::RunGradquant("compress " + sample + " -q " + spec + " -o " + file +
                                        " --records 0:1 --layers '^" + layer + "$' --format csv");
    INFO(spec << ": " << run.err);
    REQUIRE(run.exitCode == 0);
    std::vector<std::int64_t> shape;
    {
      const Dump compressed = Dump::Open({file});  // closed before the file is edited
      for (const LayerInfo& l : compressed.Layers()) {
        if (l.name == layer) shape.assign(l.shape.rbegin(), l.shape.rend());
      }
    }
    REQUIRE(shape.size() >= 2);
    REQUIRE(shape.front() != shape.back());
    test::ReplaceIntArrayAttr(file, "/gradients/" + layer, "shape", shape);
    const auto bad = test::RunGradquant("decompress " + file + " -o " + (dir / "r.h5"));
    INFO(bad.err);
    CHECK(bad.exitCode == 3);
    CHECK_THAT(bad.err, Catch::Contains("checksum mismatch"));
    CHECK_FALSE(std::filesystem::exists(dir / "r.h5"));
  }
}

}  // namespace gradquant
