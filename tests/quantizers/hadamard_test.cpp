// The fast Walsh–Hadamard transform (quantizers/hadamard.hpp): the O(d²) definition, the
// stage order that defines its bits, orthogonality and self-inverse, and the same bits on
// every schedule (portable and AVX2 paths, one and two threads, with and without a fill).
#include "gradquant/quantizers/hadamard.hpp"

#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <mutex>
#include <vector>

#include "gradquant/core/cpu.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// (H_d)_ij = (−1)^popcount(i & j), summed in double: the O(d²) definition.
std::vector<double> Naive(const std::vector<float>& x) {
  const std::size_t d = x.size();
  std::vector<double> y(d, 0.0);
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      y[i] += (__builtin_popcountll(i & j) % 2 ? -1.0 : 1.0) * static_cast<double>(x[j]);
    }
  }
  return y;
}

// The stage order of the file comment, written as plainly as possible: the bits to match.
std::vector<float> Stages(std::vector<float> x) {
  for (std::size_t s = 1; s < x.size(); s *= 2) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (i & s) continue;
      const float a = x[i], b = x[i + s];
      x[i] = a + b;
      x[i + s] = a - b;
    }
  }
  return x;
}

std::vector<float> Random(std::size_t d, std::uint64_t seed) {
  const arma::fvec g = test::LaplaceSlab(d, 1.0, seed);
  return std::vector<float>(g.begin(), g.end());
}

std::vector<float> Transformed(std::vector<float> x) {
  Hadamard(x.data(), x.size());
  return x;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("NextPowerOfTwo rounds up to a power of two", "[hadamard]") {
  CHECK(NextPowerOfTwo(0) == 1);
  CHECK(NextPowerOfTwo(1) == 1);
  CHECK(NextPowerOfTwo(2) == 2);
  CHECK(NextPowerOfTwo(3) == 4);
  CHECK(NextPowerOfTwo(1000) == 1024);
  CHECK(NextPowerOfTwo(1024) == 1024);
  CHECK(NextPowerOfTwo(1025) == 2048);
}

TEST_CASE("Hadamard equals the O(d^2) definition", "[hadamard]") {
  for (std::size_t d = 1; d <= 512; d *= 2) {
    INFO("d = " << d);
    // Small integers: every partial sum is exact in float32, so the match is exact.
    std::vector<float> ints(d);
    for (std::size_t i = 0; i < d; ++i)
      ints[i] = static_cast<float>(static_cast<int>(i * 7919 % 17) - 8);
    const std::vector<double> want = Naive(ints);
    const std::vector<float> got = Transformed(ints);
    for (std::size_t i = 0; i < d; ++i) REQUIRE(static_cast<double>(got[i]) == want[i]);
    // Random floats: within float32 rounding of the log2(d) stages.
    const std::vector<float> x = Random(d, 3 + d);
    const std::vector<double> ref = Naive(x);
    const std::vector<float> y = Transformed(x);
    double scale = 0.0;
    for (float v : x) scale += std::fabs(static_cast<double>(v));
    for (std::size_t i = 0; i < d; ++i) REQUIRE(std::fabs(y[i] - ref[i]) <= 1e-6 * scale);
  }
}

TEST_CASE("Hadamard gives the bits of its stage order at every size", "[hadamard]") {
  // Leaves (up to 4096), one tile pass (8192 .. 2^20), and two levels of tiles beyond.
  for (std::size_t d :
       {1u, 2u, 4u, 8u, 16u, 64u, 4096u, 8192u, 1u << 14, 1u << 17, 1u << 20, 1u << 21}) {
    INFO("d = " << d);
    const std::vector<float> x = Random(d, d);
    CHECK(SameBits(Transformed(x), Stages(x)));
  }
}

TEST_CASE("Hadamard is orthogonal and its own inverse up to d", "[hadamard]") {
  for (std::size_t d : {2u, 1024u, 1u << 16}) {
    const std::vector<float> x = Random(d, 5);
    const std::vector<float> y = Transformed(x);
    const std::vector<float> z = Transformed(y);
    double xx = 0.0, yy = 0.0, worst = 0.0;
    for (std::size_t i = 0; i < d; ++i) {
      xx += static_cast<double>(x[i]) * x[i];
      yy += static_cast<double>(y[i]) * y[i];
      worst = std::max(worst, std::fabs(z[i] / static_cast<double>(d) - x[i]));
    }
    CHECK(yy == Approx(static_cast<double>(d) * xx).epsilon(1e-6));  // ‖Hx‖² = d‖x‖²
    CHECK(worst < 1e-5);                                             // H H = d I
  }
}

TEST_CASE("Hadamard gives the same bits on every path and thread count", "[hadamard]") {
  const int saved = omp_get_max_threads();
  for (std::size_t d : {1u << 13, 1u << 18, 1u << 21}) {
    const std::vector<float> x = Random(d, 9);
    omp_set_num_threads(1);
    ForcePortablePaths(true);
    const std::vector<float> portable = Transformed(x);
    ForcePortablePaths(false);
    const std::vector<float> one = Transformed(x);
    omp_set_num_threads(2);
    const std::vector<float> two = Transformed(x);
    INFO("d = " << d);
    CHECK(SameBits(portable, one));
    CHECK(SameBits(one, two));
  }
  omp_set_num_threads(saved);
}

TEST_CASE("Hadamard's fill sees every block once, before the block is read", "[hadamard]") {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(2);
  for (std::size_t d : {1u, 8u, 4096u, 1u << 16}) {
    const std::vector<float> x = Random(d, 11);
    std::vector<float> y(d, std::nanf(""));  // garbage until filled
    std::vector<int> seen(d, 0);
    bool aligned = true;
    std::mutex m;  // the fill runs on the OpenMP threads: no Catch2 assertion inside
    Hadamard(y.data(), d, [&](std::size_t first, std::size_t count) {
      std::copy(x.begin() + first, x.begin() + first + count, y.begin() + first);
      const std::lock_guard<std::mutex> lock(m);
      aligned = aligned && count == HadamardBlock(d) && first % HadamardBlock(d) == 0;
      for (std::size_t i = first; i < first + count; ++i) ++seen[i];
    });
    INFO("d = " << d);
    CHECK(aligned);
    CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
    CHECK(SameBits(y, Transformed(x)));
  }
  omp_set_num_threads(saved);
}

}  // namespace gradquant
