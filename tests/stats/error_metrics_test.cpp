// stats/error_metrics: plain and best-scalar-fit errors, cosine conventions.
#include "gradquant/stats/error_metrics.hpp"

#include <catch2/catch.hpp>

#include "test_util.hpp"

namespace gradquant {

TEST_CASE("FitErrorSq is the plain squared distance for ordinary outputs", "[stats]") {
  const arma::fvec g = {1.0f, -2.0f, 3.0f}, q = {1.5f, -2.0f, 2.0f};
  CHECK(FitErrorSq(q, g, false) == Approx(0.25 + 1.0));
  CHECK(SquaredNorm(g) == Approx(14.0));
  CHECK(Dot(g, q) == Approx(1.5 + 4.0 + 6.0));
}

TEST_CASE("FitErrorSq of a sign output is the error of c* o, c* = <o,g>/||o||^2", "[stats]") {
  const arma::fvec g = test::LaplaceSlab(500, 1.0, 7);
  const arma::fvec o = arma::sign(g + 0.3f);  // a noisy sign vector
  const double c = BestScale(o, g);
  CHECK(c ==
        Approx(arma::dot(arma::conv_to<arma::vec>::from(o), arma::conv_to<arma::vec>::from(g)) /
               500.0));
  const arma::vec fitted = Fitted(o, g, true);
  const arma::vec diff = fitted - arma::conv_to<arma::vec>::from(g);
  CHECK(FitErrorSq(o, g, true) == Approx(arma::dot(diff, diff)).epsilon(1e-10));
  // The fit never does worse than sending nothing, and an all-zero output costs ||g||^2.
  CHECK(FitErrorSq(o, g, true) <= SquaredNorm(g));
  CHECK(FitErrorSq(arma::fvec(500, arma::fill::zeros), g, true) == Approx(SquaredNorm(g)));
}

TEST_CASE("Cosine is 0 for a zero output, NaN for two zeros, and scale-free", "[stats]") {
  const arma::fvec g = {3.0f, 4.0f}, z(2, arma::fill::zeros);
  CHECK(Cosine(g, 2.0f * g) == Approx(1.0));
  CHECK(Cosine(g, -g) == Approx(-1.0));
  CHECK(Cosine(z, g) == 0.0);
  CHECK(std::isnan(Cosine(z, z)));
  CHECK(Cosine(arma::fvec{1.0f, 0.0f}, arma::fvec{0.0f, 1.0f}) == 0.0);
}

}  // namespace gradquant
