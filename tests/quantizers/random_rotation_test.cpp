// The randomized Hadamard rotation (quantizers/random_rotation.hpp): zero padding, the signs
// from the rotation stream (a worker's own), the way back, and the power-of-two rescaling of
// slabs outside float32's comfortable range.
#include "gradquant/quantizers/random_rotation.hpp"

#include <catch2/catch.hpp>
#include <cfloat>
#include <cmath>
#include <vector>

#include "test_util.hpp"

namespace gradquant {
namespace {

const StreamKey kKey{7, 3, 1, 2};

std::vector<float> Rotated(const RandomRotation& r, const arma::fvec& x, RotatedSlab* info) {
  std::vector<float> y(r.D());
  *info = r.Forward(x.memptr(), y.data());
  return y;
}

}  // namespace

TEST_CASE("The rotation pads to a power of two and draws its signs from the key", "[rotation]") {
  const arma::fvec x = test::LaplaceSlab(1000, 1.0, 1);
  const RandomRotation r(1000, kKey);
  CHECK(r.N() == 1000);
  CHECK(r.D() == 1024);
  CHECK(RandomRotation(0, kKey).D() == 0);
  RotatedSlab info;
  const std::vector<float> y = Rotated(r, x, &info);
  CHECK(info.exponent == 0);
  CHECK(info.normSq == Approx(arma::accu(arma::square(arma::conv_to<arma::vec>::from(x)))));
  // y = H D (x, 0) with σ_i from bit 31 − (i mod 32) of rotation word ⌊i/32⌋.
  const Rng rng(kKey, Purpose::kRotation);
  std::vector<double> dx(1024, 0.0);
  for (std::size_t i = 0; i < 1000; ++i) {
    const bool negative = (rng.Word(i / 32) >> (31 - i % 32)) & 1u;
    dx[i] = negative ? -x[i] : x[i];
  }
  for (std::size_t i : {0u, 1u, 517u, 1023u}) {
    double want = 0.0;
    for (std::size_t j = 0; j < 1024; ++j)
      want += (__builtin_popcountll(i & j) % 2 ? -1 : 1) * dx[j];
    CHECK(y[i] == Approx(want).margin(1e-4));
  }
  // Another worker (or step, layer, seed) rotates differently.
  const std::vector<float> other = Rotated(RandomRotation(1000, {7, 3, 2, 2}), x, &info);
  CHECK(other != y);
}

TEST_CASE("Inverse with m = 1/d undoes Forward on the first n coordinates", "[rotation]") {
  for (std::size_t n : {1u, 5u, 1000u, 4096u, 70000u}) {
    const arma::fvec x = test::GaussianSlab(n, 2.0, n);
    const RandomRotation r(n, kKey);
    RotatedSlab info;
    std::vector<float> y = Rotated(r, x, &info);
    const std::vector<float> copy = y;
    arma::fvec back(n);
    r.Inverse(y.data(), 1.0 / static_cast<double>(r.D()), back.memptr(),
              [&](std::size_t first, std::size_t count) {
                std::copy(copy.begin() + first, copy.begin() + first + count, y.begin() + first);
              });
    INFO("n = " << n);
    CHECK(arma::abs(back - x).max() < 1e-5f * 2.0f * std::sqrt(static_cast<float>(n)));
  }
}

TEST_CASE("The rotation rescales huge and tiny slabs by a power of two", "[rotation]") {
  const arma::fvec x = test::LaplaceSlab(3000, 1.0, 4);
  const RandomRotation r(3000, kKey);
  RotatedSlab plain, huge, tiny;
  const std::vector<float> y = Rotated(r, x, &plain);
  const std::vector<float> yHuge = Rotated(r, x * 0x1p120f, &huge);
  const std::vector<float> yTiny = Rotated(r, x * 0x1p-80f, &tiny);
  CHECK(huge.exponent > 100);
  CHECK(tiny.exponent < -70);
  // Scaled by exact powers of two, the rotated slabs are the same up to that power.
  for (std::size_t i = 0; i < y.size(); ++i) {
    REQUIRE(std::isfinite(yHuge[i]));
    REQUIRE(std::ldexp(yHuge[i], huge.exponent - 120) == Approx(y[i]).margin(1e-5));
    REQUIRE(std::ldexp(yTiny[i], tiny.exponent + 80) == Approx(y[i]).margin(1e-5));
  }
  // The largest floats everywhere: finite after the rescale.
  const arma::fvec top(3000, arma::fill::value(FLT_MAX));
  RotatedSlab info;
  for (float v : Rotated(r, top, &info)) REQUIRE(std::isfinite(v));
  // Non-finite values count as 0.
  arma::fvec bad = x;
  bad[5] = NAN;
  bad[7] = INFINITY;
  arma::fvec zeroed = x;
  zeroed[5] = zeroed[7] = 0.0f;
  RotatedSlab a, b;
  CHECK(Rotated(r, bad, &a) == Rotated(r, zeroed, &b));
  CHECK(a.normSq == Approx(b.normSq).epsilon(1e-12));
}

}  // namespace gradquant
