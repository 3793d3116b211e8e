#include <catch2/catch.hpp>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/core/cpu.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant {

TEST_CASE("BitWriter writes MSB-first with zero padding", "[bitstream]") {
  BitWriter w;
  w.Put(0b101, 3);
  w.Put(0b1, 1);
  w.Put(0xABC, 12);
  w.Put(0b11, 2);
  const Message m = w.Finish();
  CHECK(m.bits == 18);
  REQUIRE(m.bytes.size() == 3);
  CHECK(m.bytes[0] == 0b10111010);
  CHECK(m.bytes[1] == 0b10111100);
  CHECK(m.bytes[2] == 0b11000000);
}

TEST_CASE("Random bit fields of every width round-trip", "[bitstream]") {
  const Rng rng({5, 0, 0, 0}, Purpose::kTest);
  std::vector<std::pair<std::uint64_t, int>> fields;
  BitWriter w;
  for (std::uint64_t i = 0; i < 5000; ++i) {
    const int width = static_cast<int>(rng.Bits(2 * i) % 65);
    std::uint64_t v = rng.Bits(2 * i + 1);
    if (width < 64) v &= (std::uint64_t{1} << width) - 1;
    fields.emplace_back(v, width);
    w.Put(v, width);
  }
  w.PutFloat32(-3.25f);
  const Message m = w.Finish();
  BitReader r(m, "test");
  for (const auto& [v, width] : fields) REQUIRE(r.Get(width) == v);
  CHECK(r.GetFloat32() == -3.25f);
  CHECK_NOTHROW(r.ExpectEnd());
}

TEST_CASE("Reading past the end throws FormatError", "[bitstream]") {
  BitWriter w;
  w.Put(5, 10);
  const Message m = w.Finish();
  BitReader r(m, "short");
  CHECK(r.Get(8) == 1);
  CHECK_THROWS_AS(r.Get(3), FormatError);
  CHECK_THROWS_WITH(BitReader(m, "x").Get(11), Catch::Contains("message x: ends after 10 bits"));
}

TEST_CASE("ExpectEnd rejects unread bits and non-zero padding", "[bitstream]") {
  BitWriter w;
  w.Put(3, 4);
  Message m = w.Finish();
  BitReader partial(m, "m");
  partial.Get(2);
  CHECK_THROWS_AS(partial.ExpectEnd(), FormatError);
  m.bytes[0] |= 1;  // a padding bit
  BitReader padded(m, "m");
  padded.Get(4);
  CHECK_THROWS_AS(padded.ExpectEnd(), FormatError);
}

TEST_CASE("A byte count that disagrees with the bit count is rejected", "[bitstream]") {
  Message m;
  m.bytes = {1, 2, 3};
  m.bits = 30;
  CHECK_THROWS_AS(BitReader(m, "m"), FormatError);
}

TEST_CASE("Elias code lengths match the known values", "[bitstream]") {
  const std::vector<std::pair<std::uint64_t, int>> omega = {
      {1, 1},  {2, 3},   {3, 3},    {4, 6},     {7, 6},       {8, 7},
      {15, 7}, {16, 11}, {100, 13}, {1000, 17}, {1000000, 31}};
  for (const auto& [n, len] : omega) CHECK(OmegaLength(n) == len);
  for (const auto& [n, len] :
       std::vector<std::pair<std::uint64_t, int>>{{1, 1}, {2, 3}, {4, 5}, {1000, 19}}) {
    CHECK(GammaLength(n) == len);
  }
  for (const auto& [n, len] : std::vector<std::pair<std::uint64_t, int>>{
           {1, 1}, {2, 4}, {4, 5}, {16, 9}, {100, 11}, {1000, 16}}) {
    CHECK(DeltaLength(n) == len);
  }
}

TEST_CASE("Elias codes round-trip and write exactly their length", "[bitstream]") {
  std::vector<std::uint64_t> values;
  for (std::uint64_t n = 1; n < 300; ++n) values.push_back(n);
  for (int b = 8; b < 64; b += 5) values.push_back((std::uint64_t{1} << b) + 12345);
  values.push_back(~std::uint64_t{0});
  for (std::uint64_t n : values) {
    INFO(n);
    BitWriter w;
    PutGamma(w, n);
    PutDelta(w, n);
    PutOmega(w, n);
    const Message m = w.Finish();
    CHECK(m.bits == static_cast<std::uint64_t>(GammaLength(n) + DeltaLength(n) + OmegaLength(n)));
    BitReader r(m, "codes");
    CHECK(GetGamma(r) == n);
    CHECK(GetDelta(r) == n);
    CHECK(GetOmega(r) == n);
    CHECK_NOTHROW(r.ExpectEnd());
  }
}

TEST_CASE("Elias decoders reject streams that end early or overflow", "[bitstream]") {
  BitWriter w;
  w.Put(0, 40);  // 40 zeros: an unfinished gamma prefix
  const Message zeros = w.Finish();
  BitReader r(zeros, "z");
  CHECK_THROWS_AS(GetGamma(r), FormatError);
  BitWriter ones;
  for (int i = 0; i < 200; ++i) ones.PutBit(true);
  const Message allOnes = ones.Finish();
  BitReader r2(allOnes, "o");
  CHECK_THROWS_AS(GetOmega(r2), FormatError);
}

TEST_CASE("CeilLog2 gives fixed-field widths", "[bitstream]") {
  CHECK(CeilLog2(1) == 0);
  CHECK(CeilLog2(2) == 1);
  CHECK(CeilLog2(3) == 2);
  CHECK(CeilLog2(7) == 3);
  CHECK(CeilLog2(8) == 3);
  CHECK(CeilLog2(9) == 4);
}

}  // namespace gradquant

namespace gradquant {

TEST_CASE("PutFixed, PutWords and GetFixed equal field-by-field Put and Get", "[bitstream]") {
  const Rng rng({6, 0, 0, 0}, Purpose::kTest);
  std::uint64_t word = 0;
  const bool portable = GENERATE(false, true);  // the AVX2 packers (where present), then not
  ForcePortablePaths(portable);
  for (int width = 0; width <= 40; ++width) {
    for (int lead : {0, 3, 32, 63}) {  // bits already pending before the fields
      for (std::size_t count : {std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{1000},
                                std::size_t{2113}}) {
        std::vector<std::uint32_t> values(count);
        for (auto& v : values) v = rng.Word(word++);  // wider than the field: masked
        BitWriter slow, fast;
        slow.Put(0x5A5A5A5A5A5A5A5AULL, lead);
        fast.Put(0x5A5A5A5A5A5A5A5AULL, lead);
        for (auto v : values) slow.Put(v, width);
        fast.PutFixed(values.data(), count, width);
        const Message a = slow.Finish(), b = fast.Finish();
        INFO("width " << width << " lead " << lead << " count " << count);
        REQUIRE(a.bits == b.bits);
        REQUIRE(a.bytes == b.bytes);
        BitReader r(b, "fixed");
        r.Skip(static_cast<std::uint64_t>(lead));
        const std::uint64_t start = r.Position();
        std::vector<std::uint32_t> got(count), peeked(count);
        if (width >= 1 && width <= 32) r.PeekFixed(start, peeked.data(), count, width);
        r.GetFixed(got.data(), count, width);
        CHECK_NOTHROW(r.ExpectEnd());
        const std::uint64_t mask = width >= 64 ? ~0ULL : (std::uint64_t{1} << width) - 1;
        for (std::size_t i = 0; i < count; ++i) {
          REQUIRE(got[i] == (values[i] & mask));
          if (width >= 1 && width <= 32) REQUIRE(peeked[i] == got[i]);
        }
      }
    }
  }
  ForcePortablePaths(false);
}

TEST_CASE("GetFixed, PeekFixed and Skip refuse to run past the end", "[bitstream]") {
  BitWriter w;
  const std::vector<std::uint32_t> values(100, 5);
  w.PutFixed(values.data(), values.size(), 3);
  const Message m = w.Finish();
  std::vector<std::uint32_t> out(101);
  BitReader r(m, "fixed");
  CHECK_THROWS_AS(r.GetFixed(out.data(), 101, 3), FormatError);
  CHECK_THROWS_AS(r.PeekFixed(4, out.data(), 99, 3), FormatError);
  CHECK_THROWS_AS(r.Skip(301), FormatError);
  r.Skip(3);
  CHECK(r.Position() == 3);
  r.GetFixed(out.data(), 99, 3);
  CHECK(out[98] == 5);
  CHECK_NOTHROW(r.ExpectEnd());
}

}  // namespace gradquant
