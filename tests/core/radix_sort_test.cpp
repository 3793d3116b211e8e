#include "gradquant/core/radix_sort.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "test_util.hpp"

namespace gradquant {
namespace {

TEST_CASE("RadixSort orders doubles as std::sort does, zeros, extremes and ties included", "[core]") {
  const arma::fvec laplace = test::LaplaceSlab(200003, 0.01, 21);
  std::vector<double> values(laplace.begin(), laplace.end());
  const double inf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::denorm_min(),
                   -std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                   std::numeric_limits<double>::lowest(), 1e300, -1e-300}) {
    values.push_back(v);
    values.insert(values.begin() + 17, v);
  }
  for (std::size_t i = 0; i < values.size(); i += 5) values[i] = std::round(values[i] * 300) / 300;
  std::vector<double> expected = values;
  std::sort(expected.begin(), expected.end());
  RadixSort(values);
  REQUIRE(values == expected);
  // Equal zeros of both signs: the negative ones first.
  const auto firstPositiveZero = std::find_if(values.begin(), values.end(), [](double v) {
    return v == 0.0 && !std::signbit(v);
  });
  CHECK(std::none_of(firstPositiveZero, values.end(),
                     [](double v) { return v == 0.0 && std::signbit(v); }));
}

TEST_CASE("RadixSort handles tiny and constant pools", "[core]") {
  std::vector<double> empty, one = {3.0}, same(1000, -2.5), two = {1.0, -1.0};
  RadixSort(empty);
  RadixSort(one);
  RadixSort(same);
  RadixSort(two);
  CHECK(empty.empty());
  CHECK(one == std::vector<double>{3.0});
  CHECK(same == std::vector<double>(1000, -2.5));
  CHECK(two == std::vector<double>{-1.0, 1.0});
}

}  // namespace
}  // namespace gradquant
