// stats/moments: exact merging and the zero-location fits.
#include "gradquant/stats/moments.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace gradquant {

TEST_CASE("Merged moments equal the moments of the concatenation", "[stats]") {
  // Pieces with different means, scales and sizes, the case where naive pooling goes wrong.
  arma::fvec a = test::LaplaceSlab(300, 1.0, 1) + 5.0f;
  arma::fvec b = test::GaussianSlab(1000, 0.1, 2) - 2.0f;
  arma::fvec c = test::GaussianSlab(7, 3.0, 3);
  const arma::fvec all = arma::join_cols(arma::join_cols(a, b), c);
  Moments m = Moments::Of(a.memptr(), a.n_elem);
  m.Merge(Moments::Of(b.memptr(), b.n_elem));
  m.Merge(Moments::Of(c.memptr(), c.n_elem));
  const Moments ref = Moments::Of(all.memptr(), all.n_elem);
  CHECK(m.count == ref.count);
  CHECK(m.mean == Approx(ref.mean).epsilon(1e-12));
  CHECK(m.m2 == Approx(ref.m2).epsilon(1e-12));
  CHECK(m.m3 == Approx(ref.m3).epsilon(1e-10));
  CHECK(m.m4 == Approx(ref.m4).epsilon(1e-12));
  CHECK(m.sumAbs == Approx(ref.sumAbs).epsilon(1e-12));
  CHECK(m.maxAbs == ref.maxAbs);
  CHECK(m.ExcessKurtosis() == Approx(ref.ExcessKurtosis()).epsilon(1e-10));
}

TEST_CASE("Moments of a hand example", "[stats]") {
  const arma::fvec x = {-1.0f, 1.0f, -1.0f, 1.0f, 2.0f, -2.0f};
  const Moments m = Moments::Of(x.memptr(), x.n_elem);
  CHECK(m.mean == 0.0);
  CHECK(m.LaplaceScale() == Approx(8.0 / 6));
  CHECK(m.GaussSigma() == Approx(std::sqrt(12.0 / 6)));
  // m2 = 12, m4 = 36: n m4 / m2^2 - 3 = 6*36/144 - 3 = -1.5.
  CHECK(m.ExcessKurtosis() == Approx(-1.5));
  const arma::fvec zeros(4, arma::fill::zeros);
  CHECK(std::isnan(Moments::Of(zeros.memptr(), 4).ExcessKurtosis()));
  CHECK(std::isnan(Moments{}.LaplaceScale()));
}

}  // namespace gradquant
