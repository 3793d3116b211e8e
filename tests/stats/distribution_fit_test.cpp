// stats/distribution_fit: Laplace and Gaussian fits and their KS distances on known data.
#include "gradquant/stats/distribution_fit.hpp"

#include <omp.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace gradquant {
namespace {

std::vector<float> Values(const arma::fvec& g) { return std::vector<float>(g.begin(), g.end()); }

}  // namespace

TEST_CASE("KS distance of a hand example, ties included", "[stats]") {
  // Four values at 0 against Laplace(0, 1): F(0) = 1/2, the empirical CDF jumps 0 -> 1 there.
  std::vector<float> zeros = {0.0f, 0.0f, 0.0f, 0.0f};
  std::vector<float> x = {-1.0f, 0.0f, 0.0f, 1.0f};
  const DistributionFit z = FitZeroLocation(zeros);
  CHECK(z.laplaceScale == 0.0);
  CHECK(std::isnan(z.ksLaplace));  // all-zero pool: no continuous law to compare
  const DistributionFit f = FitZeroLocation(x);
  CHECK(f.laplaceScale == Approx(0.5));
  CHECK(f.gaussSigma == Approx(std::sqrt(0.5)));
  // At 0 the empirical CDF is 1/4 just below and 3/4 at 0; F(0) = 1/2: distance 1/4. At ±1:
  // F(-1) = e^-2/2 = 0.0677 against 0 and 1/4; F(1) = 0.9323 against 3/4 and 1: 0.1823.
  CHECK(f.ksLaplace == Approx(0.25));
  CHECK(LaplaceCdf(-1.0, 0.5) == Approx(0.5 * std::exp(-2.0)));
  CHECK(GaussCdf(0.0, 1.0) == Approx(0.5));
}

TEST_CASE("Laplace data: fitted scale within tolerance, small KS to Laplace, large to Gauss",
          "[stats]") {
  auto v = Values(test::LaplaceSlab(100000, 0.02, 11));
  const DistributionFit f = FitZeroLocation(v);
  // SE of mean|x| is b/sqrt(N) = 0.3 % of b; 1.5 % is 5 SE.
  CHECK(f.laplaceScale == Approx(0.02).epsilon(0.015));
  CHECK(f.gaussSigma == Approx(0.02 * std::sqrt(2.0)).epsilon(0.03));
  // Under the model sqrt(N) KS < 1.63 with probability 0.99 (less with a fitted scale).
  CHECK(f.ksLaplace < 1.63 / std::sqrt(1e5));
  // Laplace(b) against N(0, 2b^2): sup |F - G| = 0.062 (computed with scipy).
  CHECK(f.ksGauss == Approx(0.062).margin(0.01));
}

TEST_CASE("Gaussian data: fitted sigma within tolerance, small KS to Gauss, large to Laplace",
          "[stats]") {
  auto v = Values(test::GaussianSlab(100000, 0.5, 12));
  const DistributionFit f = FitZeroLocation(v);
  // SE of the fitted sigma is sigma/sqrt(2N) = 0.22 %; 1.2 % is 5 SE.
  CHECK(f.gaussSigma == Approx(0.5).epsilon(0.012));
  CHECK(f.laplaceScale == Approx(0.5 * std::sqrt(2.0 / M_PI)).epsilon(0.015));
  CHECK(f.ksGauss < 1.63 / std::sqrt(1e5));
  // N(0, 1) against Laplace(sqrt(2/pi)): sup |F - G| = 0.042 (computed with scipy).
  CHECK(f.ksLaplace == Approx(0.042).margin(0.01));
}

TEST_CASE("A large pool gives the plain sort's order and KS distance at 1 and 2 threads",
          "[stats]") {
  // 1.2e6 values (above the 2^18 split of the KS maximum into pieces and the 2^20 split of the
  // radix sort into blocks) with ties: the sort must reproduce std::sort's order, so both KS
  // maxima equal a plain reference loop bit for bit.
  auto base = Values(test::LaplaceSlab(1200001, 1.0, 13));
  for (std::size_t i = 0; i < base.size(); i += 7) base[i] = std::round(base[i] * 4) / 4;
  std::vector<float> sorted = base;
  std::sort(sorted.begin(), sorted.end());
  double sumAbs = 0.0;
  for (const double v : base) sumAbs += std::fabs(v);
  const double scale = sumAbs / static_cast<double>(base.size());
  double reference = 0.0;
  const double n = static_cast<double>(sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    const double f = LaplaceCdf(sorted[i], scale);
    reference = std::max({reference, f - static_cast<double>(i) / n, (i + 1.0) / n - f});
  }
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    std::vector<float> values = base;
    const DistributionFit f = FitZeroLocation(values);
    INFO("threads " << threads);
    const bool same = values == sorted;  // a bool: Catch would print a failing pool whole
    CHECK(same);
    CHECK(f.laplaceScale == scale);
    CHECK(f.ksLaplace == reference);
  }
  omp_set_num_threads(saved);
}

}  // namespace gradquant
