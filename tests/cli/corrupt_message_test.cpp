// Corrupt messages through `decompress`: a stored message that is truncated, extended,
// bit-flipped or moved to another layer, record or worker gives exit 3 and an error naming the
// message, never a crash or a silently wrong reconstruction. The files are edited with H5Cpp
// (io/h5_forge.hpp). Two lines of defence are tested: the stored checksum (message_store.hpp),
// and, with the checksum forged to match, the decoders themselves.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>

#include "cli/cli_util.hpp"
#include "gradquant/coding/message.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "io/h5_forge.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

const std::string kSample = test::SourcePath("data/fmnist_cnn.h5");

// The stored messages of one layer of a compressed file, editable in memory.
struct StoredLayer {
  std::string file, layer;
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint64_t> bits, offset, checksum;  // [S * W], record-major

  StoredLayer(std::string path, std::string name) : file(std::move(path)), layer(std::move(name)) {
    bytes = test::ReadBytes(file, "messages/" + layer + "/bytes");
    bits = test::ReadU64(file, "bits/" + layer);
    offset = test::ReadU64(file, "messages/" + layer + "/offset");
    checksum = test::ReadU64(file, "messages/" + layer + "/checksum");
  }
  void Save() const {
    test::WriteBytes(file, "messages/" + layer + "/bytes", bytes);
    test::WriteU64(file, "bits/" + layer, bits);
    test::WriteU64(file, "messages/" + layer + "/offset", offset);
    test::WriteU64(file, "messages/" + layer + "/checksum", checksum);
  }
  // Message k as the decoder would see it.
  Message Get(std::size_t k) const {
    Message m;
    m.bits = bits[k];
    const std::size_t len = (bits[k] + 7) / 8;
    m.bytes.assign(bytes.begin() + static_cast<long>(offset[k]),
                   bytes.begin() + static_cast<long>(offset[k] + len));
    return m;
  }
};

struct Compressed {
  std::string path, spec;
  std::uint64_t seed;
  Dump source;  // the sample: layer indices, sizes and steps as the messages were keyed
};

// Compresses the fc layers (fc1.weight, fc1.bias, fc2.weight, fc2.bias) at records 0 and 1
// (steps 0 and 50) of the sample with @p spec into @p path.
Compressed Compress(const std::string& path, const std::string& spec) {
  const auto run = test::RunGradquant("compress " + kSample + " -q '" + spec + "' --seed 5 -o " +
                                      path + " --records 0:2 --layers '^fc' --format csv");
  INFO(run.err);
  REQUIRE(run.exitCode == 0);
  return {path, BuiltinRegistry().Make(spec)->Spec(), 5, Dump::Open({kSample})};
}

// Re-forges the checksum of message k of source layer @p l, so only a decoder can object.
void ForgeChecksum(const Compressed& c, StoredLayer& s, std::size_t l, std::size_t k) {
  const LayerInfo& info = c.source.Layers()[l];
  const std::size_t workers = c.source.Workers();
  const std::size_t record = k / workers;
  const MessageIdentity id{c.spec, c.seed,     info.name, info.index,
                           info.n, info.shape, workers,   c.source.Steps()[record],
                           record, k % workers};
  s.checksum[k] = StoredChecksum(s.Get(k), id);
}

test::RunResult Decompress(const test::TempDir& dir, const std::string& file) {
  return test::RunGradquant("decompress " + file + " -o " + (dir / "recon.h5") + " --format csv");
}

void RequireCorrupt(const test::TempDir& dir, const test::RunResult& run, const std::string& what,
                    const std::string& says) {
  if (std::getenv("GRADQUANT_SHOW_MATRIX")) {
    std::cout << "| " << what << " | " << run.exitCode << " | `"
              << run.err.substr(0, run.err.find('\n')) << "` |\n";
  }
  INFO(what << ": " << run.err);
  CHECK(run.exitCode == 3);
  CHECK(test::Lines(run.err) == 1);
  CHECK_THAT(run.err, Catch::StartsWith("gradquant: error: message ") && Catch::Contains(says));
  CHECK_FALSE(std::filesystem::exists(dir / "recon.h5"));
  for (const auto& e : test::Entries(dir.Path())) CHECK(e.find(".tmp.") == std::string::npos);
}

}  // namespace

TEST_CASE("decompress rejects messages edited in the file by their checksum",
          "[cli][hostile][valgrind]") {
  test::TempDir dir;
  const std::string clean = dir / "clean.h5", file = dir / "edited.h5";
  const Compressed c = Compress(clean, "dqsg:s=3");
  const std::size_t last = 2 * 4 - 1;  // record 1, worker 3: its bytes end the dataset
  struct Edit {
    const char* what;
    std::function<void(StoredLayer& fc2w, StoredLayer& other)> apply;
    std::string says;
  };
  const std::vector<Edit> edits = {
      {"truncated (bit count cut by 8)", [&](StoredLayer& s, StoredLayer&) { s.bits[last] -= 8; },
       "message fc2.weight record 1 worker 3: checksum mismatch"},
      {"truncated (bytes cut off the store)",
       [&](StoredLayer& s, StoredLayer&) { s.bytes.resize(s.bytes.size() - 5); },
       "message fc2.weight record 1 worker 3: extent"},
      {"extended by one byte",
       [&](StoredLayer& s, StoredLayer&) {
         s.bytes.push_back(0);
         s.bits[last] += 8;
       },
       "message fc2.weight record 1 worker 3: checksum mismatch"},
      {"one bit flipped", [&](StoredLayer& s, StoredLayer&) { s.bytes[s.offset[5] + 17] ^= 0x04; },
       "message fc2.weight record 1 worker 1: checksum mismatch"},
      {"offset moved by a byte", [&](StoredLayer& s, StoredLayer&) { s.offset[2] += 1; },
       "message fc2.weight record 0 worker 2: checksum mismatch"},
      {"swapped between workers (same size)",
       [&](StoredLayer& s, StoredLayer&) {
         std::swap(s.offset[0], s.offset[1]);
         std::swap(s.bits[0], s.bits[1]);
         std::swap(s.checksum[0], s.checksum[1]);
       },
       "message fc2.weight record 0 worker 0: checksum mismatch"},
      {"swapped between records",
       [&](StoredLayer& s, StoredLayer&) {
         for (std::size_t w = 0; w < 4; ++w) {
           std::swap(s.offset[w], s.offset[4 + w]);
           std::swap(s.bits[w], s.bits[4 + w]);
           std::swap(s.checksum[w], s.checksum[4 + w]);
         }
       },
       "message fc2.weight record 0 worker 0: checksum mismatch"},
      {"swapped between layers (fc2.weight and fc1.bias)",
       [&](StoredLayer& s, StoredLayer& o) {
         std::swap(s.bytes, o.bytes);
         std::swap(s.bits, o.bits);
         std::swap(s.offset, o.offset);
         std::swap(s.checksum, o.checksum);
       },
       "checksum mismatch"},
  };
  for (const auto& e : edits) {
    DYNAMIC_SECTION(e.what) {
      std::filesystem::copy_file(clean, file, std::filesystem::copy_options::overwrite_existing);
      StoredLayer fc2w(file, "fc2.weight"), fc1b(file, "fc1.bias");
      e.apply(fc2w, fc1b);
      fc2w.Save();
      fc1b.Save();
      RequireCorrupt(dir, Decompress(dir, file), e.what, e.says);
    }
  }
  // The untouched file decodes; so the edits above, not the copy, broke it.
  REQUIRE(Decompress(dir, clean).exitCode == 0);
}

TEST_CASE("decompress rejects edited context: seed, spec, layer index, steps", "[cli][hostile]") {
  // The decoders key their randomness on these; a message decoded under another key would be
  // silently wrong, so the checksum covers them.
  test::TempDir dir;
  const std::string clean = dir / "clean.h5", file = dir / "edited.h5";
  Compress(clean, "dqsg:s=3");
  struct Edit {
    const char* what;
    std::function<void()> apply;
    std::string says;
  };
  const std::vector<Edit> edits = {
      {"seed attribute edited", [&] { test::ReplaceIntAttr(file, "/", "seed", 6, true); },
       "message fc1.weight record 0 worker 0: checksum mismatch"},
      {"quantizer attribute edited",
       [&] { test::ReplaceStringAttr(file, "/", "quantizer", "dqsg:bucket=0,s=4"); },
       "message fc1.weight record 0 worker 0: checksum mismatch"},
      {"layer_index attribute edited",
       [&] { test::ReplaceIntAttr(file, "/messages/fc2.weight", "layer_index", 5); },
       "message fc2.weight record 0 worker 0: checksum mismatch"},
      {"/steps edited",
       [&] {
         test::WriteI64(file, "steps", {0, 51});
       },
       "message fc1.weight record 1 worker 0: checksum mismatch"},
  };
  for (const auto& e : edits) {
    DYNAMIC_SECTION(e.what) {
      std::filesystem::copy_file(clean, file, std::filesystem::copy_options::overwrite_existing);
      e.apply();
      RequireCorrupt(dir, Decompress(dir, file), e.what, e.says);
    }
  }
}

namespace {

// Truncated and extended messages of @p spec whose checksums were forged to match must be
// rejected by the decoder itself; a flipped bit may decode to another valid stream but must never
// crash (exit 0 or 3).
void RequireDecoderRejects(const std::string& spec) {
  test::TempDir dir;
  const std::string clean = dir / "clean.h5", file = dir / "edited.h5";
  const Compressed c = Compress(clean, spec);
  const std::size_t l = 6, last = 7;  // fc2.weight, record 1 worker 3
  for (int kind = 0; kind < 2; ++kind) {
    std::filesystem::copy_file(clean, file, std::filesystem::copy_options::overwrite_existing);
    StoredLayer s(file, "fc2.weight");
    if (kind == 0) {
      s.bits[last] -= 8;  // the last byte is cut off
    } else {
      s.bytes.push_back(0);  // an extra zero byte
      s.bits[last] += 8;
    }
    ForgeChecksum(c, s, l, last);
    s.Save();
    RequireCorrupt(
        dir, Decompress(dir, file),
        spec + (kind == 0 ? " truncated, checksum forged" : " extended, checksum forged"),
        c.spec + " fc2.weight step 50 worker 3");
  }
  for (std::size_t bit = 3; bit < 64; bit += 29) {
    std::filesystem::copy_file(clean, file, std::filesystem::copy_options::overwrite_existing);
    StoredLayer s(file, "fc2.weight");
    s.bytes[s.offset[2] + bit / 8] ^= static_cast<std::uint8_t>(0x80u >> (bit % 8));
    ForgeChecksum(c, s, l, 2);
    s.Save();
    const auto run = Decompress(dir, file);
    INFO("bit " << bit << ": " << run.err);
    CHECK((run.exitCode == 0 || run.exitCode == 3));
    std::filesystem::remove(dir / "recon.h5");
  }
}

}  // namespace

TEST_CASE("fp32 decoder rejects edited messages whose checksum was forged", "[cli][hostile]") {
  RequireDecoderRejects("fp32");
}

TEST_CASE("dqsg decoder rejects edited messages whose checksum was forged", "[cli][hostile]") {
  RequireDecoderRejects("dqsg:s=3");
}

TEST_CASE("qsgd decoder rejects edited messages whose checksum was forged", "[cli][hostile]") {
  RequireDecoderRejects("qsgd:s=4");
  RequireDecoderRejects("qsgd:coding=fixed,bucket=64");
}

}  // namespace gradquant
