// compress gives the same messages, reconstructions, aggregates and totals on 1 and 2 threads:
// the pipeline of (layer, record) tasks and the pieces inside large slabs never change a bit.
#include <H5Cpp.h>
#include <omp.h>

#include <catch2/catch.hpp>

#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "laplace_dump.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// A dump with a large vector (cut into pieces), a conv weight (GradiVeQ compresses it after
// its fit record) and a matrix, 3 records of 2 workers.
void WriteDump(const std::string& path) {
  test::WriteLaplaceDump(path,
                         {test::Layer({300007}, "big", 0), test::Layer({16, 8, 5, 5}, "conv", 1),
                          test::Layer({60, 50}, "fc", 2)},
                         {0, 10, 20});
}

}  // namespace

TEST_CASE("compress output is identical on 1 and 2 threads", "[pipeline][threads]") {
  test::TempDir dir;
  const std::string input = dir / "in.h5";
  WriteDump(input);
  const Dump dump = Dump::Open({input});
  const Selection all = Select(dump.Layers(), dump.Records(), "", "");
  const int saved = omp_get_max_threads();
  // Every registered method at its default spec, so a new one is covered without a list to
  // keep, plus the variants whose bitstream takes another path.
  std::vector<std::string> specs = BuiltinRegistry().Names();
  specs.insert(specs.end(), {"qsgd:coding=fixed,bucket=1000", "terngrad:packing=base3"});
  for (const std::string& spec : specs) {
    DYNAMIC_SECTION(spec) {
      const auto q = BuiltinRegistry().Make(spec);
      std::vector<std::vector<LayerTotals>> totals;
      for (int threads : {1, 2}) {
        omp_set_num_threads(threads);
        CompressOptions options;
        options.seed = 5;
        options.outPath = dir / ("out" + std::to_string(threads) + ".h5");
        totals.push_back(RunCompress(dump, *q, all, options));
      }
      omp_set_num_threads(saved);
      const std::string one = dir / "out1.h5", two = dir / "out2.h5";
      const MessageReader a(one), b(two);
      const Dump ra = Dump::Open({one}), rb = Dump::Open({two});
      for (std::size_t l = 0; l < dump.Layers().size(); ++l) {
        for (std::size_t r = 0; r < dump.Records(); ++r) {
          INFO("layer " << l << " record " << r);
          const auto ma = a.Read(l, r), mb = b.Read(l, r);
          REQUIRE(ma.size() == mb.size());
          for (std::size_t w = 0; w < ma.size(); ++w) {
            CHECK(ma[w].bits == mb[w].bits);
            CHECK(ma[w].bytes == mb[w].bytes);
            CHECK(test::SameBits(ra.ReadSlab(l, r, w), rb.ReadSlab(l, r, w)));
          }
          const LayerInfo& layer = dump.Layers()[l];
          CHECK(test::SameBits(test::ReadAggregate(one, layer, r),
                               test::ReadAggregate(two, layer, r)));
        }
        const LayerTotals& ta = totals[0][l];
        const LayerTotals& tb = totals[1][l];
        CHECK(ta.bits == tb.bits);
        CHECK(ta.downlinkBits == tb.downlinkBits);
        CHECK(ta.errorSq == tb.errorSq);  // summed in the same order: equal, not just close
        CHECK(ta.normSq == tb.normSq);
        CHECK(ta.theorySq == tb.theorySq);
        CHECK(ta.aggErrorSq == tb.aggErrorSq);
        CHECK(ta.theoryKind == tb.theoryKind);
        CHECK(ta.stats == tb.stats);
      }
    }
  }
}

}  // namespace gradquant
