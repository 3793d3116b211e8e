// gradquant's own chunk reader (io/direct_read, io/chunk_filters): it undoes shuffle, deflate
// and Fletcher-32 like HDF5, and hands any chunk it cannot decode back to HDF5.
#include <zlib.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "gradquant/core/error.hpp"
#include "gradquant/io/chunk_filters.hpp"
#include "gradquant/io/dump.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

using detail::ChunkFilter;

std::vector<std::uint8_t> Ramp(std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + i / 11);
  return bytes;
}

// What HDF5 writes for the pipeline shuffle, deflate, fletcher32 (4-byte elements).
std::vector<std::uint8_t> Encode(const std::vector<std::uint8_t>& raw) {
  const std::size_t elements = raw.size() / 4;
  std::vector<std::uint8_t> shuffled(raw);
  for (std::size_t i = 0; i < elements; ++i) {
    for (std::size_t b = 0; b < 4; ++b) shuffled[b * elements + i] = raw[4 * i + b];
  }
  uLongf size = compressBound(static_cast<uLong>(shuffled.size()));
  std::vector<std::uint8_t> out(size);
  REQUIRE(compress2(out.data(), &size, shuffled.data(), static_cast<uLong>(shuffled.size()), 4) ==
          Z_OK);
  out.resize(size);
  const std::uint32_t sum = detail::Fletcher32(out.data(), out.size());
  for (int b = 0; b < 4; ++b) out.push_back(static_cast<std::uint8_t>(sum >> (8 * b)));
  return out;
}

const std::vector<ChunkFilter> kPipeline = {ChunkFilter::kShuffle, ChunkFilter::kDeflate,
                                            ChunkFilter::kFletcher32};

TEST_CASE("Fletcher32 sums big-endian 16-bit words as HDF5 does", "[io]") {
  const std::uint8_t even[] = {0x01, 0x02, 0x03, 0x04};
  CHECK(detail::Fletcher32(even, 4) == 0x05080406u);  // words 0x0102, 0x0304
  const std::uint8_t odd[] = {0x01, 0x02, 0x03};
  CHECK(detail::Fletcher32(odd, 3) == 0x05040402u);  // the odd byte is a high byte: 0x0300
  // Long input: the sums are folded every 360 words without losing anything mod 65535.
  const auto bytes = Ramp(100001);
  std::uint64_t sum1 = 0, sum2 = 0;
  for (std::size_t i = 0; i < bytes.size(); i += 2) {
    sum1 += (std::uint64_t{bytes[i]} << 8) | (i + 1 < bytes.size() ? bytes[i + 1] : 0);
    sum2 += sum1;
  }
  const std::uint32_t got = detail::Fletcher32(bytes.data(), bytes.size());
  CHECK((got & 0xffffu) % 65535 == sum1 % 65535);
  CHECK((got >> 16) % 65535 == sum2 % 65535);
}

TEST_CASE("UndoFilters inverts shuffle, deflate and fletcher32 and refuses damaged chunks",
          "[io]") {
  const auto raw = Ramp(4 * 1000 + 2);  // two bytes after the last whole element
  std::vector<std::uint8_t> out;
  SECTION("intact") {
    auto stored = Encode(raw);
    REQUIRE(detail::UndoFilters(kPipeline, stored, raw.size(), out));
    CHECK(out == raw);
  }
  SECTION("a flipped checksum byte") {
    auto stored = Encode(raw);
    stored.back() ^= 1;
    CHECK_FALSE(detail::UndoFilters(kPipeline, stored, raw.size(), out));
  }
  SECTION("a flipped data byte under a checksum fixed up to match") {
    auto stored = Encode(raw);
    stored.resize(stored.size() - 4);
    stored[stored.size() / 2] ^= 0x40;
    const std::uint32_t sum = detail::Fletcher32(stored.data(), stored.size());
    for (int b = 0; b < 4; ++b) stored.push_back(static_cast<std::uint8_t>(sum >> (8 * b)));
    CHECK_FALSE(detail::UndoFilters(kPipeline, stored, raw.size(), out));  // zlib's adler32
  }
  SECTION("a chunk that inflates to another size") {
    auto stored = Encode(raw);
    CHECK_FALSE(detail::UndoFilters(kPipeline, stored, raw.size() + 4, out));
  }
}

TEST_CASE("A damaged deflated chunk goes back to HDF5, which names it; other slabs read directly",
          "[io]") {
  test::TempDir dir;
  const std::string path = dir / "d.h5";
  test::ForgeSpec spec = test::ValidSpec(2, 2);
  spec.order = std::nullopt;
  spec.layers = {{"w", {2, 2, 64}, std::nullopt, test::ForgeType::kFloat32, {1, 1, 16}, true}};
  test::Forge(path, spec);
  const test::StoredChunk chunk = test::LocateChunk(path, "/gradients/w", {1, 1, 32});
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = static_cast<std::streamoff>(chunk.offset + chunk.bytes / 2);
    char byte = 0;
    file.seekg(at);
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(at);
    file.write(&byte, 1);
  }
  const Dump dump = Dump::Open({path});
  const arma::fvec intact = dump.ReadSlab(0, 1, 0);
  for (std::size_t i = 0; i < intact.n_elem; ++i) {
    REQUIRE(intact[i] == static_cast<float>(test::ForgeValue(0, 1, 0, i)));
  }
  CHECK(dump.ReadCounts().direct == 1);
  try {
    dump.ReadSlab(0, 1, 1);
    FAIL("a damaged chunk was read");
  } catch (const IoError& e) {
    CHECK_THAT(e.what(), Catch::StartsWith(path + ": /gradients/w cannot be accessed"));
  }
  CHECK(dump.ReadCounts().direct == 1);
  CHECK(dump.ReadCounts().library == 1);
}

}  // namespace
}  // namespace gradquant
