// The Gaussian Lloyd–Max codebooks (quantizers/lloyd_max.hpp): known levels and distortions
// (computed independently by quadrature, and Max's 1960 table to its printed digits), both
// Lloyd–Max conditions at every size, symmetry, and the high-resolution limit.
#include "gradquant/quantizers/lloyd_max.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

namespace gradquant {
namespace {

double Density(double t) { return std::exp(-0.5 * t * t) / std::sqrt(2 * M_PI); }
double Tail(double t) { return 0.5 * std::erfc(t / std::sqrt(2.0)); }

}  // namespace

TEST_CASE("Lloyd-Max levels and distortions of N(0,1) match known values", "[lloyd_max]") {
  CHECK(GaussianCodebook(1).levels[1] == static_cast<float>(std::sqrt(2 / M_PI)));
  CHECK(GaussianCodebook(1).distortion == Approx(1 - 2 / M_PI).epsilon(1e-12));
  // Max (1960), Table I, to the digits printed there.
  const auto& b2 = GaussianCodebook(2).levels;
  CHECK(b2[2] == Approx(0.4528).margin(1e-4));
  CHECK(b2[3] == Approx(1.510).margin(1e-3));
  const auto& b3 = GaussianCodebook(3).levels;
  CHECK(b3[4] == Approx(0.2451).margin(1e-4));
  CHECK(b3[5] == Approx(0.7560).margin(1e-4));
  CHECK(b3[6] == Approx(1.344).margin(1e-3));
  CHECK(b3[7] == Approx(2.152).margin(1e-3));
  CHECK(GaussianCodebook(4).levels[15] == Approx(2.733).margin(1e-3));
  // Distortions by numerical quadrature (scipy) of the Lloyd fixed point.
  CHECK(GaussianCodebook(2).distortion == Approx(0.11748184782932927).epsilon(1e-7));
  CHECK(GaussianCodebook(3).distortion == Approx(0.034547760788503745).epsilon(1e-6));
  CHECK(GaussianCodebook(4).distortion == Approx(0.009501008008183064).epsilon(1e-6));
}

TEST_CASE("Every Lloyd-Max codebook satisfies both optimality conditions", "[lloyd_max]") {
  for (int bits = 1; bits <= kMaxLloydMaxBits; ++bits) {
    INFO("bits = " << bits);
    const LloydMaxCodebook& book = GaussianCodebook(bits);
    const std::size_t k = std::size_t{1} << bits;
    REQUIRE(book.levels.size() == k);
    REQUIRE(book.boundaries.size() == k - 1);
    for (std::size_t j = 0; j < k; ++j) {
      CHECK(book.levels[j] == -book.levels[k - 1 - j]);  // symmetric
      if (j + 1 < k) CHECK(book.levels[j] < book.levels[j + 1]);
    }
    CHECK(book.boundaries[k / 2 - 1] == 0.0);
    // Each level is the mean of its cell (to float32 rounding of the level).
    for (std::size_t j = k / 2; j < k; ++j) {
      const double a = book.boundaries[j - 1];
      const double b = j + 1 < k ? book.boundaries[j] : INFINITY;
      const double mean = (Density(a) - (std::isinf(b) ? 0.0 : Density(b))) /
                          (Tail(a) - (std::isinf(b) ? 0.0 : Tail(b)));
      CHECK(book.levels[j] == Approx(mean).epsilon(1e-6));
    }
    CHECK(&GaussianCodebook(bits) == &book);  // computed once
  }
  // High resolution (Panter–Dite): D_b ≈ (√3 π/2)·4^−b.
  CHECK(GaussianCodebook(8).distortion == Approx(std::sqrt(3.0) * M_PI / 2 / 65536).epsilon(0.02));
  CHECK_THROWS_AS(GaussianCodebook(0), std::invalid_argument);
  CHECK_THROWS_AS(GaussianCodebook(9), std::invalid_argument);
}

}  // namespace gradquant
