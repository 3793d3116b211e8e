#include "gradquant/core/radix_sort.hpp"

#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "test_util.hpp"

namespace gradquant {
namespace {

// A Laplace pool of n values with every fifth value rounded (ties), and the extremes of float
// (zeros of both signs, infinities, denormals, the largest and smallest) twice each.
std::vector<float> HardPool(std::size_t n) {
  const arma::fvec laplace = test::LaplaceSlab(n, 0.01, 21);
  std::vector<float> values(laplace.begin(), laplace.end());
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::lowest(), 1e30f, -1e-30f}) {
    values.push_back(v);
    values.insert(values.begin() + 17, v);
  }
  for (std::size_t i = 0; i < values.size(); i += 5) values[i] = std::round(values[i] * 300) / 300;
  return values;
}

void CheckNegativeZerosFirst(const std::vector<float>& values) {
  const auto firstPositiveZero = std::find_if(
      values.begin(), values.end(), [](float v) { return v == 0.0f && !std::signbit(v); });
  CHECK(std::none_of(firstPositiveZero, values.end(),
                     [](float v) { return v == 0.0f && std::signbit(v); }));
}

TEST_CASE("RadixSort orders floats as std::sort does, zeros, extremes and ties included",
          "[core]") {
  std::vector<float> values = HardPool(200003);
  std::vector<float> expected = values;
  std::sort(expected.begin(), expected.end());
  RadixSort(values);
  const bool same = values == expected;  // a bool: Catch would print a failing pool whole
  REQUIRE(same);
  CheckNegativeZerosFirst(values);
}

TEST_CASE("RadixSort of a pool cut into blocks: the same order on 1 and 2 threads", "[core]") {
  // Above 2^20 values the histograms and scatters run per block, side by side.
  const std::vector<float> pool = HardPool(1500007);
  std::vector<float> expected = pool;
  std::sort(expected.begin(), expected.end());
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::vector<float> values = pool;
    RadixSort(values);
    INFO("threads " << threads);
    const bool same = values == expected;
    REQUIRE(same);
    CheckNegativeZerosFirst(values);
  }
  omp_set_num_threads(saved);
}

TEST_CASE("RadixSort handles tiny and constant pools", "[core]") {
  std::vector<float> empty, one = {3.0f}, same(1000, -2.5f), two = {1.0f, -1.0f};
  RadixSort(empty);
  RadixSort(one);
  RadixSort(same);
  RadixSort(two);
  CHECK(empty.empty());
  CHECK(one == std::vector<float>{3.0f});
  CHECK(same == std::vector<float>(1000, -2.5f));
  CHECK(two == std::vector<float>{-1.0f, 1.0f});
  // Keys that share their high digit: only the low pass runs, and the keys end in the scratch.
  std::vector<float> close;
  for (float v = 1.0f; close.size() < 3000; v = std::nextafter(v, 2.0f)) close.push_back(v);
  std::vector<float> reversed(close.rbegin(), close.rend());
  RadixSort(reversed);
  CHECK(reversed == close);
}

}  // namespace
}  // namespace gradquant
