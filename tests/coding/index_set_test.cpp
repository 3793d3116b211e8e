// The gamma-gap index-set code (coding/index_set.hpp).
#include "gradquant/coding/index_set.hpp"

#include <catch2/catch.hpp>
#include <stdexcept>

#include "gradquant/coding/codes.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant {
namespace {

Message Write(const std::vector<std::uint64_t>& idx, std::uint64_t n) {
  BitWriter w;
  PutIndexSet(w, idx, n);
  return w.Finish();
}

std::vector<std::uint64_t> Read(const Message& m, std::uint64_t n) {
  BitReader r(m, "index set");
  auto out = GetIndexSet(r, n);
  r.ExpectEnd();
  return out;
}

}  // namespace

TEST_CASE("Index sets round-trip with the documented gamma-gap length", "[bitstream]") {
  // {0, 3, 9} in n = 10: gamma(4) = 5 bits, gaps 1, 3, 6: 1 + 3 + 5 bits.
  const std::vector<std::uint64_t> example = {0, 3, 9};
  const Message m = Write(example, 10);
  CHECK(m.bits == 14);
  CHECK(IndexSetBits(example) == 14);
  CHECK(Read(m, 10) == example);

  CHECK(Write({}, 5).bits == 1);  // the empty set is gamma(1) = "1"
  CHECK(Read(Write({}, 5), 5).empty());

  const Rng rng({3, 0, 0, 0}, Purpose::kTest);
  for (std::uint64_t trial = 0; trial < 200; ++trial) {
    const std::uint64_t n = 1 + rng.Bits(3 * trial) % 3000;
    const double density = rng.Uniform(3 * trial + 1);
    std::vector<std::uint64_t> idx;
    for (std::uint64_t i = 0; i < n; ++i) {
      if (rng.Uniform(1000000 + trial * 4000 + i) < density) idx.push_back(i);
    }
    const Message msg = Write(idx, n);
    REQUIRE(msg.bits == IndexSetBits(idx));
    REQUIRE(Read(msg, n) == idx);
  }
}

TEST_CASE("PutIndexSet refuses unsorted, repeated or out-of-range indices", "[bitstream]") {
  BitWriter w;
  CHECK_THROWS_AS(PutIndexSet(w, {3, 2}, 10), std::invalid_argument);
  CHECK_THROWS_AS(PutIndexSet(w, {2, 2}, 10), std::invalid_argument);
  CHECK_THROWS_AS(PutIndexSet(w, {10}, 10), std::invalid_argument);
}

TEST_CASE("GetIndexSet rejects corrupt streams", "[bitstream]") {
  // A count above n.
  {
    BitWriter w;
    PutGamma(w, 6 + 1);
    for (int i = 0; i < 6; ++i) PutGamma(w, 1);
    const Message m = w.Finish();
    BitReader r(m, "too many");
    CHECK_THROWS_AS(GetIndexSet(r, 5), FormatError);
  }
  // An index at n: one entry, gap = n + 1.
  {
    BitWriter w;
    PutGamma(w, 2);
    PutGamma(w, 11);
    const Message m = w.Finish();
    BitReader r(m, "beyond");
    CHECK_THROWS_AS(GetIndexSet(r, 10), FormatError);
  }
  // Gaps that add up past the end.
  {
    BitWriter w;
    PutGamma(w, 3);
    PutGamma(w, 8);
    PutGamma(w, 3);  // 7, then 10 in a tensor of 10
    const Message m = w.Finish();
    BitReader r(m, "sum beyond");
    CHECK_THROWS_AS(GetIndexSet(r, 10), FormatError);
  }
  // Truncated: the count promises more entries than the stream holds.
  {
    const Message full = Write({1, 4, 7, 8}, 1000);
    Message cut = full;
    cut.bits -= 3;
    cut.bytes.resize((cut.bits + 7) / 8);
    if (cut.bits % 8) cut.bytes.back() &= static_cast<std::uint8_t>(0xFF << (8 - cut.bits % 8));
    BitReader r(cut, "truncated");
    CHECK_THROWS_AS(GetIndexSet(r, 1000), FormatError);
  }
}

}  // namespace gradquant
