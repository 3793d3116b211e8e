// TNQ closed forms and the general threshold condition against docs/quantizers.md#tnq.
#include "gradquant/stats/tnq_theory.hpp"

#include <catch2/catch.hpp>
#include <cmath>

namespace gradquant {
namespace {

struct Row {
  std::uint32_t s;
  double alpha, f;
};
// The table of docs/quantizers.md#tnq (gamma = 1).
const Row kTable[] = {{1, 0.7222, 1.23578},
                      {2, 1.3038, 0.83859},
                      {3, 1.7907, 0.60612},
                      {7, 3.1995, 0.23697},
                      {15, 4.8774, 0.07742}};

}  // namespace

TEST_CASE("TNQ closed-form alpha* and f* match the table (§10.11)", "[tnq][stats]") {
  for (const Row& row : kTable) {
    INFO("s " << row.s);
    CHECK(std::fabs(TnqAlphaStar(1.0, row.s) - row.alpha) < 1e-4);
    CHECK(std::fabs(TnqErrorStar(1.0, row.s) - row.f) < 1e-4);
    CHECK(TnqLaplaceError(TnqAlphaStar(1.0, row.s), 1.0, row.s) ==
          Approx(TnqErrorStar(1.0, row.s)).epsilon(1e-12));
    // Scaling: alpha* is linear in gamma, f* quadratic.
    CHECK(TnqAlphaStar(0.01, row.s) == Approx(0.01 * TnqAlphaStar(1.0, row.s)).epsilon(1e-14));
    CHECK(TnqErrorStar(0.01, row.s) == Approx(1e-4 * TnqErrorStar(1.0, row.s)).epsilon(1e-12));
  }
}

TEST_CASE("TNQ grid minimisation of f(alpha) agrees with the closed form", "[tnq][stats]") {
  for (std::uint32_t s : {1u, 2u, 3u, 4u, 7u, 15u, 31u, 255u}) {
    INFO("s " << s);
    double best = 0, bestF = INFINITY;
    for (double a = 0.001; a < 20.0; a += 1e-4) {
      const double f = TnqLaplaceError(a, 1.0, s);
      if (f < bestF) best = a, bestF = f;
    }
    CHECK(std::fabs(best - TnqAlphaStar(1.0, s)) < 1e-3);
    CHECK(std::fabs(bestF - TnqErrorStar(1.0, s)) < 1e-3);
  }
}

TEST_CASE("TNQ levels: s = 3 values, exact ends, symmetry, zero iff s even (§10.11)",
          "[tnq][stats]") {
  const auto l3 = TnqLevelsAtOptimum(1.0, 3);
  REQUIRE(l3.size() == 4);
  const double expected[] = {-1.7907, -0.4870, 0.4870, 1.7907};
  for (int j = 0; j < 4; ++j) CHECK(std::fabs(l3[j] - expected[j]) < 1e-4);

  std::vector<std::uint32_t> sizes;
  for (std::uint32_t s = 1; s <= 40; ++s) sizes.push_back(s);
  sizes.push_back(255);
  sizes.push_back(65535);
  for (double gamma : {1.0, 0.37, 1e-3, 3e-7}) {
    for (std::uint32_t s : sizes) {
      const double alphaStar = TnqAlphaStar(gamma, s);
      const std::vector<std::pair<std::vector<double>, double>> sets = {
          {TnqLevelsAtOptimum(gamma, s), alphaStar},
          {TnqLaplaceLevels(alphaStar, gamma, s), alphaStar},
          {TnqLaplaceLevels(2.5 * gamma, gamma, s), 2.5 * gamma},
          {TnqUniformLevels(0.8 * gamma, s), 0.8 * gamma}};
      for (std::size_t which = 0; which < sets.size(); ++which) {
        const auto& [levels, alpha] = sets[which];
        INFO("gamma " << gamma << " s " << s << " set " << which);
        REQUIRE(levels.size() == s + 1);
        CHECK(levels.front() == -alpha);
        CHECK(levels.back() == alpha);
        bool symmetric = true, increasing = true, zero = false;
        for (std::uint32_t j = 0; j <= s; ++j) {
          symmetric = symmetric && levels[s - j] == -levels[j];
          if (j) increasing = increasing && levels[j] > levels[j - 1];
          zero = zero || levels[j] == 0.0;
        }
        CHECK(symmetric);
        CHECK(increasing);
        CHECK(zero == (s % 2 == 0));
      }
    }
  }
  // The general form at alpha* is the closed form.
  for (std::uint32_t s : {2u, 3u, 7u, 15u, 100u}) {
    const auto a = TnqLevelsAtOptimum(1.3, s), b = TnqLaplaceLevels(TnqAlphaStar(1.3, s), 1.3, s);
    for (std::uint32_t j = 0; j <= s; ++j) CHECK(a[j] == Approx(b[j]).epsilon(1e-12).margin(1e-15));
  }
}

TEST_CASE("TNQ general threshold condition reduces to the closed form for Laplace (§3.9)",
          "[tnq][stats]") {
  for (double gamma : {1.0, 0.01}) {
    const SymmetricPdf laplace = LaplacePdf(gamma);
    for (std::uint32_t s : {1u, 3u, 7u, 15u}) {
      INFO("gamma " << gamma << " s " << s);
      CHECK(TnqOptimalThreshold(laplace, s) == Approx(TnqAlphaStar(gamma, s)).epsilon(1e-6));
      const double a = 1.7 * gamma;
      CHECK(TnqGeneralError(laplace, a, s) == Approx(TnqLaplaceError(a, gamma, s)).epsilon(1e-8));
      CHECK(TruncationError(laplace, a) ==
            Approx(2 * gamma * gamma * std::exp(-1.7)).epsilon(1e-8));
    }
  }
}

TEST_CASE("TNQ general threshold minimises the general error for a Gaussian", "[tnq][stats]") {
  const SymmetricPdf gauss = GaussianPdf(1.0);
  for (std::uint32_t s : {1u, 3u, 7u}) {
    INFO("s " << s);
    const double alpha = TnqOptimalThreshold(gauss, s);
    // A grid of step 1e-3 over alpha +- 0.1; the minimum must be inside the window.
    double best = 0, bestF = INFINITY;
    for (int i = -100; i <= 100; ++i) {
      const double a = alpha + 1e-3 * i;
      const double f = TnqGeneralError(gauss, a, s);
      if (f < bestF) best = a, bestF = f;
    }
    CHECK(std::fabs(alpha - best) < 2e-3);
    CHECK(TnqGeneralError(gauss, alpha, s) <= bestF + 1e-9);
  }
}

TEST_CASE("TNQ exact rounding variance at alpha* matches §10.12", "[tnq][stats]") {
  const std::pair<std::uint32_t, double> rows[] = {{1, 0.19443}, {2, 0.20077}, {3, 0.18795},
                                                   {4, 0.16153}, {7, 0.10516}, {15, 0.04176}};
  const SymmetricPdf laplace = LaplacePdf(1.0);
  for (const auto& [s, value] : rows) {
    INFO("s " << s);
    CHECK(std::fabs(RoundingVariance(TnqLevelsAtOptimum(1.0, s), laplace) - value) < 1e-5);
  }
}

TEST_CASE("TNQ uniform-level model is truncation plus spacing^2/4 inside", "[tnq][stats]") {
  for (std::uint32_t s : {1u, 3u, 15u}) {
    for (double a : {0.5, 2.0, 6.0}) {
      const double inside = 1 - std::exp(-a);
      CHECK(TnqUniformError(a, 1.0, s) ==
            Approx(TruncationError(LaplacePdf(1.0), a) + a * a / (1.0 * s * s) * inside)
                .epsilon(1e-8));
    }
  }
}

}  // namespace gradquant
