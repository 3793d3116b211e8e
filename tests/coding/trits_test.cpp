// Ternary packing (coding/trits.hpp): sizes, round trips and rejection of invalid patterns.
#include "gradquant/coding/trits.hpp"

#include <catch2/catch.hpp>
#include <vector>

#include "gradquant/core/error.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant {
namespace {

std::vector<std::int8_t> RandomTrits(std::size_t count, std::uint64_t seed) {
  const Rng rng({seed, 0, 0, 0}, Purpose::kTest);
  std::vector<std::int8_t> t(count);
  for (std::size_t i = 0; i < count; ++i) t[i] = static_cast<std::int8_t>(rng.Bits(i) % 3) - 1;
  return t;
}

Message Bytes(std::vector<std::uint8_t> bytes, std::uint64_t bits) {
  return {std::move(bytes), bits};
}

}  // namespace

TEST_CASE("Trits round-trip in both packings with the stated sizes", "[bitstream][trits]") {
  for (const auto packing : {TritPacking::kTwoBit, TritPacking::kBase3}) {
    for (std::size_t count = 0; count <= 23; ++count) {
      INFO("count " << count << " base3 " << (packing == TritPacking::kBase3));
      const auto trits = RandomTrits(count, 7 + count);
      BitWriter w;
      w.Put(5, 3);  // an unaligned start
      PutTrits(w, trits.data(), count, packing);
      const Message m = w.Finish();
      const std::uint64_t expected =
          packing == TritPacking::kTwoBit ? 2 * count : 8 * ((count + 4) / 5);
      CHECK(TritBits(count, packing) == expected);
      CHECK(m.bits == 3 + expected);
      BitReader r(m, "trits");
      CHECK(r.Get(3) == 5);
      std::vector<std::int8_t> back(count, 9);
      GetTrits(r, back.data(), count, packing);
      r.ExpectEnd();
      CHECK(back == trits);
    }
  }
  CHECK(TritBits(1000, TritPacking::kBase3) == 1600);  // docs/quantizers.md#ndqsg: 1632 - 32
  CHECK(ParseTritPacking("base3") == TritPacking::kBase3);
  CHECK_THROWS_AS(ParseTritPacking("3bit"), std::invalid_argument);
}

TEST_CASE("The first trit is the most significant base-3 digit", "[bitstream][trits]") {
  const std::vector<std::int8_t> trits = {1, -1, 0, -1, -1};  // digits 2 0 1 0 0
  BitWriter w;
  PutTrits(w, trits.data(), trits.size(), TritPacking::kBase3);
  const Message m = w.Finish();
  REQUIRE(m.bytes.size() == 1);
  CHECK(m.bytes[0] == 2 * 81 + 1 * 9);
}

TEST_CASE("Invalid trit patterns are rejected", "[bitstream][trits]") {
  std::vector<std::int8_t> out(5);
  {
    const Message m = Bytes({0b11000000}, 2);
    BitReader r(m, "2bit");  // pattern 11
    CHECK_THROWS_AS(GetTrits(r, out.data(), 1, TritPacking::kTwoBit), FormatError);
  }
  {
    const Message m = Bytes({243}, 8);
    BitReader r(m, "base3");  // above 3^5 - 1
    CHECK_THROWS_AS(GetTrits(r, out.data(), 5, TritPacking::kBase3), FormatError);
  }
  {
    const Message m = Bytes({1}, 8);
    BitReader r(m, "base3");  // last digit non-zero but only 4 trits declared
    CHECK_THROWS_AS(GetTrits(r, out.data(), 4, TritPacking::kBase3), FormatError);
  }
  {
    const Message m = Bytes({0}, 8);
    BitReader r(m, "base3");  // 6 trits need two bytes
    CHECK_THROWS_AS(GetTrits(r, out.data(), 6, TritPacking::kBase3), FormatError);
  }
}

}  // namespace gradquant
