// The frontier's temporary copy of the selected slabs: the same values bit for bit, the source
// read once, nothing left in TMPDIR, and an IoError naming the folder when it cannot be made.
#include "gradquant/optimize/slab_spill.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>

#include "gradquant/core/error.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// 3 layers × 2 records × 3 workers of Laplace values (one NaN and one -0 to check the bits are
// copied, not recomputed), counting the reads of the source.
SlabSet Counted(std::shared_ptr<std::atomic<std::size_t>> reads) {
  SlabSet set;
  set.workers = 3;
  set.layers = {test::Layer({5, 7}, "a", 0), test::Layer({1}, "b", 1), test::Layer({1000}, "c", 2)};
  set.steps = {4, 9};
  set.read = [layers = set.layers, reads](std::size_t l, std::size_t r) {
    ++*reads;
    std::vector<arma::fvec> slabs;
    for (std::size_t w = 0; w < 3; ++w) {
      slabs.push_back(test::LaplaceSlab(layers[l].n, 1.0 + l, 100 * l + 10 * r + w));
    }
    slabs[0][0] = std::numeric_limits<float>::quiet_NaN();
    slabs[2][0] = -0.0f;
    return slabs;
  };
  return set;
}

}  // namespace

TEST_CASE("SpillSlabs copies every item once and reads back the same bits", "[optimize]") {
  test::TempDir dir;
  const test::ScopedEnv tmp("TMPDIR", dir.Path().string());
  auto reads = std::make_shared<std::atomic<std::size_t>>(0);
  const SlabSet source = Counted(reads);
  const SlabSet copy = SpillSlabs(source);
  CHECK(reads->load() == 3 * 2);
  CHECK(std::filesystem::is_empty(dir.Path()));  // unlinked at once
  CHECK(copy.workers == 3);
  CHECK(copy.steps == source.steps);
  REQUIRE(copy.layers.size() == 3);
  for (std::size_t pass = 0; pass < 2; ++pass) {
    for (std::size_t l = 0; l < 3; ++l) {
      CHECK(copy.layers[l].name == source.layers[l].name);
      for (std::size_t r = 0; r < 2; ++r) {
        const auto a = copy.Read(l, r);
        const auto b = source.Read(l, r);
        REQUIRE(a.size() == 3);
        for (std::size_t w = 0; w < 3; ++w) CHECK(test::SameBits(a[w], b[w]));
      }
    }
  }
  CHECK(reads->load() == 3 * 2 + 2 * 3 * 2);  // the copy never went back to the source
}

TEST_CASE("SpillSlabs names the folder when it cannot make the copy", "[optimize]") {
  test::TempDir dir;
  const test::ScopedEnv tmp("TMPDIR", dir / "missing");
  const SlabSet source = Counted(std::make_shared<std::atomic<std::size_t>>(0));
  CHECK_THROWS_AS(SpillSlabs(source), IoError);
  try {
    SpillSlabs(source);
  } catch (const IoError& e) {
    CHECK(std::string(e.what()).find(dir / "missing") == 0);
    CHECK(std::string(e.what()).find("it needs 24864 bytes") != std::string::npos);
  }
}

}  // namespace gradquant
