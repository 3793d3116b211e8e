#include "gradquant/random/rng.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/random/philox.hpp"

namespace gradquant {

TEST_CASE("Philox4x32-10 matches the Random123 known-answer vectors", "[random]") {
  using A4 = std::array<std::uint32_t, 4>;
  CHECK(Philox4x32({0, 0, 0, 0}, {0, 0}) == A4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(Philox4x32({0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff}) ==
        A4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(Philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        A4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("Rng is a pure function of its key and index", "[random]") {
  const StreamKey key{7, 100, 2, 5};
  const Rng a(key, Purpose::kDither), b(key, Purpose::kDither);
  std::vector<double> batch(1001);
  a.Uniforms(3, batch.size(), batch.data());  // odd start exercises the half-block paths
  for (std::size_t i = 0; i < batch.size(); ++i) {
    REQUIRE(batch[i] == b.Uniform(3 + i));
    REQUIRE(batch[i] >= 0.0);
    REQUIRE(batch[i] < 1.0);
  }
  // Golden value: the same number on every machine and compiler.
  CHECK(a.Bits(0) == Rng(key, Purpose::kDither).Bits(0));
  CHECK(Rng({0, 0, 0, 0}, Purpose::kTest).Bits(1) == 0x5f67ba2933883d22ULL);
}

TEST_CASE("Different keys and purposes give different streams", "[random]") {
  const StreamKey base{1, 2, 3, 4};
  const std::uint64_t x = Rng(base, Purpose::kDither).Bits(0);
  CHECK(Rng(base, Purpose::kRounding).Bits(0) != x);
  CHECK(Rng({2, 2, 3, 4}, Purpose::kDither).Bits(0) != x);
  CHECK(Rng({1, 3, 3, 4}, Purpose::kDither).Bits(0) != x);
  CHECK(Rng({1, 2, 4, 4}, Purpose::kDither).Bits(0) != x);
  CHECK(Rng({1, 2, 3, 5}, Purpose::kDither).Bits(0) != x);
}

TEST_CASE("Uniforms have the moments and bin counts of the uniform law on 0..1", "[random]") {
  const Rng rng({3, 0, 0, 0}, Purpose::kTest);
  const std::size_t n = 1000000;
  const int bins = 100;
  std::vector<double> count(bins, 0.0);
  double sum = 0, sumSq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.Uniform(i);
    sum += u;
    sumSq += u * u;
    count[static_cast<int>(u * bins)] += 1;
  }
  const double mean = sum / n, var = sumSq / n - mean * mean;
  // Standard errors: 0.29/sqrt(n) = 2.9e-4 for the mean; 5 SE tolerance.
  CHECK(std::fabs(mean - 0.5) < 1.5e-3);
  CHECK(std::fabs(var - 1.0 / 12) < 1e-3);
  double chi2 = 0;
  for (double c : count) chi2 += (c - n / bins) * (c - n / bins) / (n / bins);
  // 99 degrees of freedom: the 0.9999 quantile is about 157.
  CHECK(chi2 < 157);
}

TEST_CASE("Normals have mean 0 and variance 1", "[random]") {
  const Rng rng({4, 0, 0, 0}, Purpose::kTest);
  const std::size_t n = 400000;
  double sum = 0, sumSq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double z = rng.Normal(i);
    sum += z;
    sumSq += z * z;
  }
  CHECK(std::fabs(sum / n) < 5 / std::sqrt(double(n)));
  CHECK(std::fabs(sumSq / n - 1) < 5 * std::sqrt(2.0 / n));
}

}  // namespace gradquant

namespace gradquant {

TEST_CASE("Words equals Word on every path: heads, batches, tails, high counters", "[random]") {
  const Rng rng({9, 1, 2, 3}, Purpose::kDither);
  for (std::uint64_t first : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{61},
                              (std::uint64_t{1} << 34) - 70, std::uint64_t{1} << 40}) {
    for (std::size_t count : {std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{64},
                              std::size_t{67}, std::size_t{1000}}) {
      std::vector<std::uint32_t> words(count);
      rng.Words(first, count, words.data());
      for (std::size_t j = 0; j < count; ++j) {
        INFO("first " << first << " count " << count << " j " << j);
        REQUIRE(words[j] == rng.Word(first + j));
      }
    }
  }
  for (std::uint32_t w : {0u, 1u, 0x7FFFFFFFu, 0x80000000u, 0xFFFFFFFFu}) {
    CHECK(UniformFromWord(w) == static_cast<double>(w) * 0x1p-32);
  }
}

TEST_CASE("The portable and the vectorised Philox batches give the same words", "[random]") {
  CHECK(detail::PhiloxBatchesAgree(0, 0, 0));
  CHECK(detail::PhiloxBatchesAgree(12345, 0xDEADBEEFu, 0x01234567u));
  CHECK(detail::PhiloxBatchesAgree((std::uint64_t{1} << 32) - 5, 0xFFFFFFFFu, 0xFFFFFFFFu));
  CHECK(detail::PhiloxBatchesAgree(~std::uint64_t{0} - 20, 7, 9));
}

}  // namespace gradquant
