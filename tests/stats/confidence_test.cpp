// stats/confidence: Student t quantiles and the 95 % half-width.
#include "gradquant/stats/confidence.hpp"

#include <catch2/catch.hpp>

namespace gradquant {

TEST_CASE("Student t 0.975 quantiles: table, expansion, and the normal limit", "[stats]") {
  CHECK(StudentT975(1) == Approx(12.706205));
  CHECK(StudentT975(19) == Approx(2.093024));
  CHECK(StudentT975(30) == Approx(2.042272));
  // scipy.stats.t.ppf(0.975, df) for df = 31, 60, 1000.
  CHECK(StudentT975(31) == Approx(2.039513).epsilon(1e-5));
  CHECK(StudentT975(60) == Approx(2.000298).epsilon(1e-5));
  CHECK(StudentT975(1000) == Approx(1.962339).epsilon(1e-6));
  CHECK(StudentT975(30) > StudentT975(31));
  CHECK_THROWS(StudentT975(0));
}

TEST_CASE("MeanWithCi: t * s / sqrt(R), NaN half-width for one value", "[stats]") {
  const MeanCi ci = MeanWithCi({1.0, 2.0, 3.0, 4.0});
  CHECK(ci.mean == Approx(2.5));
  // s = sqrt(5/3), t(3) = 3.182446.
  CHECK(ci.halfWidth == Approx(3.182446 * std::sqrt(5.0 / 3.0) / 2.0));
  const MeanCi one = MeanWithCi({7.0});
  CHECK(one.mean == 7.0);
  CHECK(std::isnan(one.halfWidth));
  CHECK(std::isnan(MeanWithCi({}).mean));
}

}  // namespace gradquant
