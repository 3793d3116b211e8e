// A dump of 30 M values (120 MB of float32) stored two ways, in one chunk per slab and in small
// deflated chunks of 4093 values (shuffle + deflate + fletcher32, a size that divides no layer),
// gives the same compress results bit for bit, on 2 threads and on 1: the reader's chunking,
// the filters and the thread count never change a message, a reconstruction or a total. The
// small chunks are inflated by gradquant's own reader (io/direct_read.hpp), not by HDF5.
// ctest label "large" (tests/CMakeLists.txt); `make test` runs it.
#include <omp.h>

#include <catch2/catch.hpp>
#include <cstring>

#include "gradquant/io/dump.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kRecords = 3, kWorkers = 2;

struct LayerPlan {
  std::string name;
  std::vector<std::int64_t> shape;
  std::size_t n;
};

const std::vector<LayerPlan> kLayers = {{"big", {4000000}, 4000000},
                                        {"fc.weight", {1000, 1000}, 1000000},
                                        {"conv.weight", {64, 32, 3, 3}, 18432},
                                        {"tiny", {10}, 10}};

// The same Laplace values, stored in one chunk per (record, worker) slab or in small chunks.
void WriteDump(const std::string& path, const std::vector<std::vector<arma::fvec>>& values,
               bool smallChunks) {
  test::ForgeSpec spec = test::ValidSpec(kRecords, kWorkers);
  spec.layers.clear();
  for (const auto& l : kLayers) {
    test::ForgeLayer f;
    f.name = l.name;
    f.dims = {kRecords, kWorkers, l.n};
    f.shape = l.shape;
    f.chunks = {1, 1, smallChunks ? std::min<std::uint64_t>(l.n, 4093) : l.n};
    f.deflateShuffle = smallChunks;
    spec.layers.push_back(f);
  }
  spec.order = std::vector<std::string>();
  for (const auto& l : kLayers) spec.order->push_back(l.name);
  spec.value = [&](std::size_t l, std::size_t s, std::size_t w, std::size_t i) {
    return static_cast<double>(values[l][s * kWorkers + w][i]);
  };
  test::Forge(path, spec);
}

}  // namespace

TEST_CASE("A 120 MB dump in small deflated chunks compresses as in whole-slab chunks",
          "[pipeline][large]") {
  std::vector<std::vector<arma::fvec>> values(kLayers.size());
  for (std::size_t l = 0; l < kLayers.size(); ++l) {
    for (std::size_t k = 0; k < kRecords * kWorkers; ++k) {
      values[l].push_back(test::LaplaceSlab(kLayers[l].n, 0.01 * (l + 1), 1000 * l + k));
    }
  }
  test::TempDir dir;
  const std::string whole = dir / "whole.h5", small = dir / "small.h5";
  WriteDump(whole, values, false);
  WriteDump(small, values, true);
  const Dump a = Dump::Open({whole}), b = Dump::Open({small});
  // gradquant's own reader inflates the small chunks, outside the HDF5 lock, to what was written.
  for (std::size_t l = 0; l < kLayers.size(); ++l) {
    for (std::size_t k = 0; k < kRecords * kWorkers; ++k) {
      const arma::fvec got = b.ReadSlab(l, k / kWorkers, k % kWorkers);
      REQUIRE(std::memcmp(got.memptr(), values[l][k].memptr(), 4 * got.n_elem) == 0);
    }
  }
  REQUIRE(b.ReadCounts().library == 0);
  const Selection all = Select(a.Layers(), a.Records(), "", "");
  const int saved = omp_get_max_threads();
  for (const char* spec :
       {"dqsg", "qsgd:bucket=512", "topk:kappa=0.001", "powersgd:rank=2", "gradiveq"}) {
    DYNAMIC_SECTION(spec) {
      const auto q = BuiltinRegistry().Make(spec);
      CompressOptions options;
      options.seed = 3;
      options.outPath = dir / "a.h5";
      omp_set_num_threads(2);
      const auto ta = RunCompress(a, *q, all, options);
      options.outPath = dir / "b.h5";
      omp_set_num_threads(1);
      const auto tb = RunCompress(b, *q, all, options);
      omp_set_num_threads(saved);
      const MessageReader ma(dir / "a.h5"), mb(dir / "b.h5");
      const Dump ra = Dump::Open({dir / "a.h5"}), rb = Dump::Open({dir / "b.h5"});
      REQUIRE(ta.size() == kLayers.size());
      for (std::size_t l = 0; l < kLayers.size(); ++l) {
        INFO("layer " << kLayers[l].name);
        for (std::size_t r = 0; r < kRecords; ++r) {
          const auto x = ma.Read(l, r), y = mb.Read(l, r);
          REQUIRE(x.size() == kWorkers);
          for (std::size_t w = 0; w < kWorkers; ++w) {
            CHECK(x[w].bits == y[w].bits);
            CHECK(x[w].bytes == y[w].bytes);
            const arma::fvec ga = ra.ReadSlab(l, r, w), gb = rb.ReadSlab(l, r, w);
            CHECK(std::memcmp(ga.memptr(), gb.memptr(), 4 * ga.n_elem) == 0);
          }
        }
        CHECK(ta[l].bits == tb[l].bits);
        CHECK(ta[l].errorSq == tb[l].errorSq);
        CHECK(ta[l].normSq == tb[l].normSq);
        CHECK(ta[l].theorySq == tb[l].theorySq);
        CHECK(ta[l].aggErrorSq == tb[l].aggErrorSq);
        CHECK(ta[l].stats == tb[l].stats);
        CHECK(ta[l].normSq > 0.0);  // the data is what was stored, not zeros
      }
      // Every method loses something somewhere (vectors fall back to fp32 in the matrix ones).
      double errorSq = 0.0;
      for (const auto& t : ta) errorSq += t.errorSq;
      CHECK(errorSq > 0.0);
    }
  }
}

}  // namespace gradquant
