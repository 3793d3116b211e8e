// The AVX2 loops give the same bits as the portable loops that define them (simd_kernels.hpp).
// On a machine without AVX2 both runs take the portable path and the test is trivially true.
#include "gradquant/quantizers/simd_kernels.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "gradquant/random/rng.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// Laplace values with awkward ones mixed in: zeros of both signs, exact multiples of the step,
// subnormals, the largest floats, infinities; n not a multiple of the vector width.
std::vector<float> Values(std::size_t n, std::uint64_t seed, float step) {
  const arma::fvec g = test::LaplaceSlab(n, 1.0, seed);
  std::vector<float> v(g.begin(), g.end());
  const float special[] = {0.0f,
                           -0.0f,
                           step,
                           -step,
                           2 * step,
                           0.5f * step,
                           1e-40f,
                           -1e-42f,
                           std::numeric_limits<float>::max(),
                           -std::numeric_limits<float>::max()};
  for (std::size_t i = 0; i < n; i += 7) v[i] = special[(i / 7) % 10];
  return v;
}

std::vector<std::uint32_t> Words(std::size_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> w(n);
  Rng({seed, 0, 0, 0}, Purpose::kTest).Words(0, n, w.data());
  for (std::size_t i = 0; i < n; i += 11) w[i] = (i / 11) % 2 ? 0u : 0xFFFFFFFFu;
  return w;
}

// Runs f twice, portable then dispatched, and returns both outputs.
template <class T, class F>
std::pair<std::vector<T>, std::vector<T>> Both(std::size_t n, F f) {
  std::vector<T> a(n), b(n);
  kernels::ForcePortable(true);
  f(a.data());
  kernels::ForcePortable(false);
  f(b.data());
  return {a, b};
}

template <class T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}

constexpr std::size_t kN = 10007;

}  // namespace

TEST_CASE("SIMD kernels equal their portable loops bit for bit", "[kernels][simd]") {
  const auto words = Words(kN, 3);
  SECTION("dithered indices") {
    const auto g = Values(kN, 1, 0.5f);
    for (std::int32_t s : {1, 3, 100}) {
      const auto [a, b] = Both<std::int32_t>(kN, [&](std::int32_t* out) {
        kernels::DitherIndices(g.data(), words.data(), kN, 0.5 * 7.0 / s, s, s, out);
      });
      CHECK(SameBits(a, b));
    }
  }
  SECTION("QSGD levels") {
    const auto g = Values(kN, 2, 0.25f);
    for (double ratio : {0.001, 1.0, 4.0}) {
      const auto [a, b] = Both<std::int32_t>(kN, [&](std::int32_t* out) {
        kernels::QsgdLevels(g.data(), words.data(), kN, ratio, 7, 7, out);
      });
      CHECK(SameBits(a, b));
    }
  }
  SECTION("ternary digits, with and without clipping") {
    const auto g = Values(kN, 4, 1.0f);
    for (bool clip : {false, true}) {
      const auto [a, b] = Both<std::uint32_t>(kN, [&](std::uint32_t* out) {
        kernels::TernaryDigits(g.data(), words.data(), kN, clip ? 2.0 : 4e38, clip, 2.0, out);
      });
      CHECK(SameBits(a, b));
    }
  }
  SECTION("TNQ symbols, with equal neighbouring levels") {
    const auto g = Values(kN, 5, 0.5f);
    const std::vector<std::vector<double>> tables = {
        {-2.0, -0.5, 0.5, 2.0}, {-1.0, 1.0}, {-3.0, -1.0, -1.0, 0.0, 0.5, 0.5, 1.0, 3.0}};
    for (const auto& levels : tables) {
      std::size_t clipA = 0, clipB = 0;
      kernels::ForcePortable(true);
      std::vector<std::uint32_t> a(kN), b(kN);
      clipA = kernels::TnqSymbolsFew(g.data(), words.data(), kN, levels.data(), levels.size(),
                                     a.data());
      kernels::ForcePortable(false);
      clipB = kernels::TnqSymbolsFew(g.data(), words.data(), kN, levels.data(), levels.size(),
                                     b.data());
      CHECK(SameBits(a, b));
      CHECK(clipA == clipB);
    }
  }
  SECTION("natural codes, with infinities, NaN and the top exponent") {
    auto g = Values(kN, 6, 1.0f);
    g[1] = std::numeric_limits<float>::infinity();
    g[2] = -std::numeric_limits<float>::infinity();
    g[3] = std::numeric_limits<float>::quiet_NaN();
    g[4] = 3e38f;
    std::uint32_t subA = 0, subB = 0, flushA = 0, flushB = 0;
    std::vector<std::uint32_t> a(kN), b(kN);
    kernels::ForcePortable(true);
    flushA = kernels::NaturalCodes(g.data(), words.data(), kN, a.data(), &subA);
    kernels::ForcePortable(false);
    flushB = kernels::NaturalCodes(g.data(), words.data(), kN, b.data(), &subB);
    CHECK(SameBits(a, b));
    CHECK(flushA == flushB);
    CHECK(subA == subB);
  }
  SECTION("nested indices, with and without side information, and overload") {
    std::vector<std::uint32_t> m(kN);
    for (std::size_t i = 0; i < kN; ++i) m[i] = words[(i * 7) % kN] % 5;
    std::vector<double> side(kN);
    const auto g = Values(kN, 7, 0.1f);
    for (std::size_t i = 0; i < kN; ++i) side[i] = 3.0 * g[i];
    side[5] = 1e300;  // a clamped coarse index
    for (double count : {0.0, 1.0, 3.0}) {
      const auto [a, b] = Both<std::int32_t>(kN, [&](std::int32_t* out) {
        kernels::NestedIndices(m.data(), words.data(), kN, 0.1, 5.0, 4.0e8, side.data(), count,
                               out);
      });
      CHECK(SameBits(a, b));
    }
  }
  SECTION("max |g|, skipping NaN") {
    auto g = Values(kN, 8, 1.0f);
    g[9] = std::numeric_limits<float>::quiet_NaN();
    kernels::ForcePortable(true);
    const float a = kernels::MaxAbs(g.data(), kN, 0.0f);
    kernels::ForcePortable(false);
    const float b = kernels::MaxAbs(g.data(), kN, 0.0f);
    CHECK(a == b);
    CHECK(a == std::numeric_limits<float>::max());
  }
  SECTION("lookup of up to 8 and of 16 values") {
    std::vector<std::uint32_t> sym(kN);
    for (std::size_t i = 0; i < kN; ++i) sym[i] = words[i] % 16;
    std::vector<float> table(16);
    for (std::size_t k = 0; k < 16; ++k) table[k] = -1.5f + 0.37f * static_cast<float>(k);
    for (std::size_t size : {std::size_t{4}, std::size_t{8}, std::size_t{16}}) {
      std::vector<std::uint32_t> s2(kN);
      for (std::size_t i = 0; i < kN; ++i) s2[i] = sym[i] % size;
      const auto [a, b] = Both<float>(
          kN, [&](float* out) { kernels::Lookup(s2.data(), kN, table.data(), size, out); });
      CHECK(SameBits(a, b));
    }
  }
  kernels::ForcePortable(false);
}

TEST_CASE("SIMD kernels divide where a product with the inverse would floor differently",
          "[kernels][simd]") {
  // Found by search: g·RN(1/d) + U and RN(g/d) + U floor to different integers here, and
  // r·RN(1/(ρd)) + 1/2 and RN(r/(ρd)) + 1/2 too. A loop that trusted the product would fail.
  const std::vector<std::pair<float, std::uint32_t>> dither = {
      {2.39442873f, 2289648327u},  {-2.59255886f, 333777942u},  {-2.91961479f, 3164123750u},
      {-2.67432284f, 3188848042u}, {-2.69759607f, 4001512735u}, {-1.29627943f, 2314372619u},
      {1.24973297f, 3605924063u},  {2.12586355f, 3077588728u}};
  std::vector<float> g;
  std::vector<std::uint32_t> w;
  for (int copy = 0; copy < 4; ++copy) {  // whole vectors and a scalar tail
    for (const auto& [x, word] : dither) {
      g.push_back(x);
      w.push_back(word);
    }
  }
  g.push_back(dither[0].first);
  w.push_back(dither[0].second);
  std::vector<std::int32_t> portable(g.size()), fast(g.size());
  kernels::ForcePortable(true);
  kernels::DitherIndices(g.data(), w.data(), g.size(), static_cast<double>(0.123f), 100, 0,
                         portable.data());
  kernels::ForcePortable(false);
  kernels::DitherIndices(g.data(), w.data(), g.size(), static_cast<double>(0.123f), 100, 0,
                         fast.data());
  CHECK(SameBits(portable, fast));

  const std::vector<std::pair<std::uint32_t, double>> nested = {{2, 0.061500001698732397},
                                                                {2, 0.061500001698732404},
                                                                {1, -0.061500001698732348},
                                                                {0, -0.1845000050961971}};
  std::vector<std::uint32_t> m, half;
  std::vector<double> y;
  for (int copy = 0; copy < 4; ++copy) {
    for (const auto& [mi, yi] : nested) {
      m.push_back(mi);
      y.push_back(yi);
      half.push_back(0x80000000u);
    }
  }
  std::vector<std::int32_t> a(m.size()), b(m.size());
  kernels::ForcePortable(true);
  kernels::NestedIndices(m.data(), half.data(), m.size(), static_cast<double>(0.123f), 3.0, 1e9,
                         y.data(), 1.0, a.data());
  kernels::ForcePortable(false);
  kernels::NestedIndices(m.data(), half.data(), m.size(), static_cast<double>(0.123f), 3.0, 1e9,
                         y.data(), 1.0, b.data());
  CHECK(SameBits(a, b));
}

TEST_CASE("SIMD kernels agree where a product cannot decide and the division runs",
          "[kernels][simd]") {
  // Divisors that are not powers of two (3), and inputs on which the exact quotient lands on
  // an integer or on U: a product with 1/3 falls a hair short or over, so a vector loop that
  // did not notice and divide would floor or compare differently.
  constexpr std::size_t n = 4096;
  std::vector<std::uint32_t> zero(n, 0u), quarter(n, 0x40000000u), half(n, 0x80000000u);
  {
    std::vector<float> g(n);
    for (std::size_t i = 0; i < n; ++i)
      g[i] = 3.0f * static_cast<float>(static_cast<int>(i % 61) - 30);
    const auto [a, b] = Both<std::int32_t>(n, [&](std::int32_t* out) {
      kernels::DitherIndices(g.data(), zero.data(), n, 3.0, 100, 0, out);
    });
    CHECK(SameBits(a, b));
  }
  {
    std::vector<float> x(n);
    for (std::size_t i = 0; i < n; ++i) x[i] = i % 2 ? 0.75f : -0.75f;  // |x|/3 = U = 1/4
    const auto [a, b] = Both<std::uint32_t>(n, [&](std::uint32_t* out) {
      kernels::TernaryDigits(x.data(), quarter.data(), n, 3.0, false, 0.0, out);
    });
    CHECK(SameBits(a, b));
  }
  {
    std::vector<float> t(n, 0.5f);  // (t + 1)/3 = U = 1/2
    const double levels[] = {-1.0, 2.0};
    const auto [a, b] = Both<std::uint32_t>(n, [&](std::uint32_t* out) {
      kernels::TnqSymbolsFew(t.data(), half.data(), n, levels, 2, out);
    });
    CHECK(SameBits(a, b));
  }
  {
    std::vector<std::uint32_t> m(n);
    std::vector<double> y(n);
    for (std::size_t i = 0; i < n; ++i) {  // U = 1/2: r = m − y = 3j − 1.5, r/3 + 1/2 = j
      m[i] = static_cast<std::uint32_t>(i % 3);
      const double j = static_cast<double>(static_cast<int>(i % 41) - 20);
      y[i] = static_cast<double>(m[i]) - 3.0 * j + 1.5;
    }
    const auto [a, b] = Both<std::int32_t>(n, [&](std::int32_t* out) {
      kernels::NestedIndices(m.data(), half.data(), n, 1.0, 3.0, 1e9, y.data(), 1.0, out);
    });
    CHECK(SameBits(a, b));
  }
  kernels::ForcePortable(false);
}

}  // namespace gradquant
