// The exact index-set codes of coding/index_coder.hpp: round trips, lengths, corrupt input.
#include "gradquant/coding/index_coder.hpp"

#include <catch2/catch.hpp>
#include <cmath>

#include "gradquant/coding/codes.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/random/partial_shuffle.hpp"

namespace gradquant {
namespace {

std::vector<std::size_t> RoundTrip(const std::vector<std::size_t>& s, std::uint64_t n,
                                   IndexCode code) {
  BitWriter w;
  PutIndexSet(w, s, n, code);
  w.PutBit(true);  // a trailing field: the decoder must stop exactly at the set's end
  const Message m = w.Finish();
  CHECK(m.bits == IndexSetBits(s, n, code) + 1);
  BitReader r(m, "test");
  auto out = GetIndexSet(r, n, s.size(), code);
  CHECK(r.GetBit());
  r.ExpectEnd();
  return out;
}

}  // namespace

TEST_CASE("Index sets round-trip, including 0, n-1, K = n and K = 1", "[bitstream][index]") {
  for (IndexCode code : {IndexCode::kGamma, IndexCode::kRice}) {
    INFO("rice " << (code == IndexCode::kRice));
    const std::uint64_t n = 1000;
    std::vector<std::vector<std::size_t>> sets = {{},   {0}, {999}, {0, 999}, {0, 1, 2, 998, 999},
                                                  {500}};
    std::vector<std::size_t> all(n);
    for (std::size_t i = 0; i < n; ++i) all[i] = i;
    sets.push_back(all);
    for (std::size_t k : {1, 10, 100, 600}) {
      auto s = PartialShuffle(Rng({3, k, 0, 0}, Purpose::kTest), n, k);
      std::sort(s.begin(), s.end());
      sets.push_back(s);
    }
    for (const auto& s : sets) {
      INFO("K = " << s.size());
      CHECK(RoundTrip(s, n, code) == s);
    }
    CHECK(RoundTrip({0}, 1, code) == std::vector<std::size_t>{0});  // n = 1
  }
}

TEST_CASE("Index code lengths follow the documented formulas", "[bitstream][index]") {
  // gamma: gamma(K+1) + sum gamma(gap); {0, 999} in n = 1000 has gaps 1 and 999.
  CHECK(IndexSetBits({0, 999}, 1000, IndexCode::kGamma) ==
        static_cast<std::uint64_t>(GammaLength(3) + GammaLength(1) + GammaLength(999)));
  // K = n: every gap is 1, one bit each in both codes (Rice parameter 0).
  std::vector<std::size_t> all(64);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  CHECK(RiceParameter(64, 64) == 0);
  CHECK(IndexSetBits(all, 64, IndexCode::kGamma) ==
        static_cast<std::uint64_t>(GammaLength(65) + 64));
  CHECK(IndexSetBits(all, 64, IndexCode::kRice) ==
        static_cast<std::uint64_t>(GammaLength(65) + 64));
  // Rice: b = floor(log2(floor(n/K))); n = 1000, K = 10 gives b = 6; gap 1 costs 1 + 6 bits,
  // gap 200 costs (199 >> 6) + 1 + 6 = 10 bits.
  CHECK(RiceParameter(1000, 10) == 6);
  CHECK(RiceParameter(1000, 0) == 0);
  CHECK(RiceParameter(1000, 2) == 8);
  CHECK(IndexSetBits({0, 200, 210, 220, 230, 240, 250, 260, 270, 280}, 1000, IndexCode::kRice) ==
        static_cast<std::uint64_t>(GammaLength(11) + 7 + 10 + 8 * 7));
  CHECK(IndexSetBits({}, 1000, IndexCode::kRice) == 1);
}

TEST_CASE("Rice index coding of random sets is close to log2 C(n, K)", "[index]") {
  const std::uint64_t n = 100000, k = 1000;
  auto s = PartialShuffle(Rng({8, 0, 0, 0}, Purpose::kTest), n, k);
  std::sort(s.begin(), s.end());
  const double ideal = IdealIndexBits(n, k);
  CHECK(ideal == Approx(8.07 * k).epsilon(0.01));  // log2 C(1e5, 1e3) ≈ 8072
  const double rice = static_cast<double>(IndexSetBits(s, n, IndexCode::kRice));
  const double gamma = static_cast<double>(IndexSetBits(s, n, IndexCode::kGamma));
  CHECK(rice >= ideal);  // no code beats the count of subsets (up to the gamma count prefix)
  CHECK(rice < 1.03 * ideal);
  CHECK(gamma > rice);
  CHECK(NaiveIndexBits(n, k) == 17 * k);
  CHECK(IdealIndexBits(n, 0) == 0.0);
  CHECK(IdealIndexBits(n, n) == 0.0);
  CHECK(IdealIndexBits(10, 3) == Approx(std::log2(120.0)));
}

TEST_CASE("Corrupt index sets are rejected", "[bitstream][index]") {
  for (IndexCode code : {IndexCode::kGamma, IndexCode::kRice}) {
    {  // more indices than allowed
      BitWriter w;
      PutIndexSet(w, {1, 2, 3}, 10, code);
      const Message m = w.Finish();
      BitReader r(m, "test");
      CHECK_THROWS_AS(GetIndexSet(r, 10, 2, code), FormatError);
    }
    {  // an index past n: written for n = 100, read as n = 10 (then the message must end)
      BitWriter w;
      PutIndexSet(w, {50}, 100, code);
      const Message m = w.Finish();
      BitReader r(m, "test");
      CHECK_THROWS_AS((GetIndexSet(r, 10, 5, code), r.ExpectEnd()), FormatError);
    }
    {  // a stream of zeros: gamma runs off the end, Rice hits its quotient limit or the end
      BitWriter w;
      PutGamma(w, 3);
      w.Put(0, 60);
      const Message m = w.Finish();
      BitReader r(m, "test");
      CHECK_THROWS_AS(GetIndexSet(r, 10, 5, code), FormatError);
    }
  }
}

}  // namespace gradquant
