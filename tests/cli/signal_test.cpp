// Interrupted runs: SIGINT or SIGTERM while compress writes leaves neither the output nor its
// temporary file, and an existing output stays as it was until a run completes.
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <thread>

#include "cli/cli_util.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// A dump big enough that compress runs for a good fraction of a second: 2^20 coordinates,
// 4 records, 2 workers (32 MB of float32), cheap to generate.
void WriteBigDump(const std::string& path) {
  const LayerInfo layer = test::Layer({1024, 1024}, "big.weight");
  const std::vector<std::int64_t> steps = {0, 1, 2, 3};
  OutputFile out(path);
  DumpWriter writer(out, steps, 2, {layer}, {}, false);
  std::vector<float> slab(layer.n);
  for (std::size_t s = 0; s < steps.size(); ++s) {
    for (std::size_t w = 0; w < 2; ++w) {
      for (std::size_t i = 0; i < layer.n; ++i) {
        slab[i] = static_cast<float>(static_cast<int>((i * 2654435761u + 97 * s + 13 * w) % 2001) -
                                     1000) *
                  1e-3f;
      }
      writer.WriteSlab(0, s, w, slab.data());
    }
  }
  out.Commit();
}

// Waits up to 10 s for a temporary output (".out.h5.tmp.<pid>") to appear in @p dir.
bool WaitForTemporary(const test::TempDir& dir, test::Background& run) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline && run.Running()) {
    for (const auto& name : test::Entries(dir.Path())) {
      if (name.rfind(".out.h5.tmp.", 0) == 0) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

}  // namespace

TEST_CASE("SIGINT or SIGTERM during compress leaves no output and no temporary file",
          "[cli][hostile][signal]") {
  test::TempDir inputs, logs;
  const std::string dump = inputs / "big.h5";
  WriteBigDump(dump);
  for (int sig : {SIGINT, SIGTERM}) {
    for (bool existing : {false, true}) {
      DYNAMIC_SECTION((sig == SIGINT ? "SIGINT" : "SIGTERM")
                      << (existing ? ", existing output" : "")) {
        test::TempDir dir;
        const std::string out = dir / "out.h5";
        if (existing) std::ofstream(out) << "previous result";
        test::Background run({"compress", dump, "-q", "dqsg:s=7", "-o", out, "--format", "csv"},
                             logs / "stdout", logs / "stderr");
        REQUIRE(WaitForTemporary(dir, run));
        // Let it write for a moment, so the signal lands in the middle of the work.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        REQUIRE(run.Running());  // if this fails, the dump is too small for this machine
        run.Signal(sig);
        const int status = run.Wait();
        const std::string err = test::Slurp(logs / "stderr");
        INFO("stderr: " << err);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 128 + sig);
        CHECK(err == (sig == SIGINT ? "gradquant: interrupted, no output written\n"
                                    : "gradquant: terminated, no output written\n"));
        CHECK(test::Slurp(logs / "stdout").empty());
        if (existing) {
          CHECK(test::Entries(dir.Path()) == std::vector<std::string>{"out.h5"});
          CHECK(test::Slurp(out) == "previous result");
        } else {
          CHECK(test::Entries(dir.Path()).empty());
        }
      }
    }
  }
}

TEST_CASE("An existing output is replaced only when the new one is complete",
          "[cli][hostile][signal]") {
  test::TempDir dir;
  const std::string out = dir / "out.h5";
  std::ofstream(out) << "previous result";
  // A failing run (corrupt input) leaves it untouched ...
  std::ofstream(dir / "bad.h5") << "not a dump";
  CHECK(test::RunGradquant("compress " + (dir / "bad.h5") + " -q dqsg -o " + out).exitCode == 2);
  CHECK(test::Slurp(out) == "previous result");
  // ... a complete one replaces it.
  const auto run = test::RunGradquant("compress " + test::SourcePath("data/fmnist_cnn.h5") +
                                      " -q dqsg -o " + out + " --records 0 --layers fc2");
  REQUIRE(run.exitCode == 0);
  CHECK(Dump::Open({out}).Layers().size() == 2);
  CHECK(test::Entries(dir.Path()) == std::vector<std::string>{"bad.h5", "out.h5"});
}

}  // namespace gradquant
