// Writes the fuzzers' seed corpus: real messages of every registered quantizer (default spec and
// each documented parameter value, several shapes and worker counts) in the decode_case.hpp
// format to OUT/decode, streams of Elias codes and fixed fields to OUT/codes, and small whole
// dumps and compressed files to OUT/dump.
// Usage: fuzz_seed_corpus OUT
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "decode_case.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/coding/codes.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "gradquant/pipeline/compress_job.hpp"
#include "gradquant/pipeline/selection.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/random/rng.hpp"

namespace {

using namespace gradquant;

void Save(const std::filesystem::path& dir, std::size_t& count,
          const std::vector<std::uint8_t>& b) {
  char name[32];
  std::snprintf(name, sizeof name, "seed-%05zu", count++);
  std::ofstream(dir / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// Laplace-like slabs with a few exact zeros, so sparse coders see both cases.
std::vector<arma::fvec> Slabs(std::size_t n, std::uint32_t workers, std::uint64_t seed) {
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < workers; ++w) {
    const Rng rng({seed, 0, w, 0}, Purpose::kTest);
    arma::fvec g(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double u = rng.Uniform(i);
      g[i] = u < 0.1 ? 0.0f : static_cast<float>(rng.Normal(n + i) * (1.0 + 3.0 * u * u));
    }
    out.push_back(g);
  }
  return out;
}

std::size_t DecodeSeeds(const std::filesystem::path& dir) {
  struct Shape {
    std::size_t n;
    std::uint32_t workers;
    bool twoD;
    std::uint8_t rows;
  };
  const std::vector<Shape> shapes = {{1, 1, false, 0}, {100, 2, false, 0}, {600, 3, true, 19}};
  const Registry& registry = BuiltinRegistry();
  const auto names = registry.Names();
  std::size_t count = 0;
  for (std::size_t q = 0; q < names.size(); ++q) {
    std::vector<std::vector<std::uint8_t>> changes = {{0, 0, 0, 0}};
    const auto docs = registry.Docs(names[q]);
    for (std::size_t k = 0; k < docs.size(); ++k) {
      const std::size_t values = fuzz::Candidates(docs[k]).size();
      for (std::size_t v = 1; v < values; ++v) {
        changes.push_back({static_cast<std::uint8_t>(k + 1), static_cast<std::uint8_t>(v), 0, 0});
      }
    }
    for (const auto& change : changes) {
      for (const auto& s : shapes) {
        const auto header = fuzz::DecodeCaseHeader(static_cast<std::uint8_t>(q), change.data(), s.n,
                                                   s.workers, s.twoD, s.rows, 3, 42, 7);
        fuzz::DecodeCase c;
        fuzz::ParseDecodeCase(header.data(), header.size(), &c);
        const auto quantizer = registry.Make(c.spec);
        const auto state = quantizer->NewLayerState(c.layer);
        const SlabContext ctx = fuzz::ContextOf(c, state.get());
        std::vector<std::uint8_t> input = header;
        bool fits = true;
        for (const auto& m : quantizer->EncodeGroup(Slabs(s.n, s.workers, count), ctx, nullptr)) {
          fits = fits && m.bytes.size() < 65536;
          fuzz::AppendMessage(input, m);
        }
        if (fits) Save(dir, count, input);
      }
    }
  }
  return count;
}

std::size_t CodeSeeds(const std::filesystem::path& dir) {
  std::size_t count = 0;
  const std::vector<std::uint64_t> values = {
      1, 2, 3, 7, 8, 100, 65535, 1ULL << 32, (1ULL << 63) + 5, ~0ULL};
  for (int code = 0; code < 3; ++code) {
    BitWriter w;
    std::vector<std::uint8_t> ops;
    for (std::uint64_t v : values) {
      if (code == 0) PutGamma(w, v);
      if (code == 1) PutDelta(w, v);
      if (code == 2) PutOmega(w, v);
      ops.push_back(static_cast<std::uint8_t>(code));
    }
    w.PutFloat32(1.5f);
    ops.push_back(4);
    w.Put(5, 3);
    ops.push_back(3 | (3 << 3));
    ops.push_back(7);  // ExpectEnd
    const Message m = w.Finish();
    std::vector<std::uint8_t> input = {
        static_cast<std::uint8_t>((8 * m.bytes.size() - m.bits) << 5),
        static_cast<std::uint8_t>(ops.size())};
    input.insert(input.end(), ops.begin(), ops.end());
    input.insert(input.end(), m.bytes.begin(), m.bytes.end());
    Save(dir, count, input);
  }
  return count;
}

}  // namespace

// Small whole files for fuzz_dump: dumps of a few shapes and a compressed file of each of a few
// quantizers, each under 64 KB so that mutations reach every structure.
std::size_t DumpSeeds(const std::filesystem::path& dir) {
  const std::filesystem::path tmp = dir / ".work";
  std::filesystem::create_directories(tmp);
  std::size_t count = 0;
  auto keep = [&](const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    Save(dir, count, bytes);
  };
  const std::vector<std::vector<LayerInfo>> models = {
      {LayerInfo{"w", {6}, 6, 0}},
      {LayerInfo{"conv.weight", {2, 3, 2, 2}, 24, 0}, LayerInfo{"fc.bias", {5}, 5, 1}},
  };
  for (std::size_t m = 0; m < models.size(); ++m) {
    const std::string dump = (tmp / ("dump" + std::to_string(m) + ".h5")).string();
    {
      OutputFile out(dump);
      DumpWriter writer(out, {0, 10}, 2, models[m], {}, false);
      for (std::size_t l = 0; l < models[m].size(); ++l) {
        const auto slabs = Slabs(models[m][l].n, 2, 10 * m + l);
        for (std::size_t r = 0; r < 2; ++r) {
          for (std::size_t w = 0; w < 2; ++w) writer.WriteSlab(l, r, w, slabs[w].memptr());
        }
      }
      out.Commit();
    }
    keep(dump);
    const Dump source = Dump::Open({dump});
    const Selection all = Select(source.Layers(), source.Steps().size(), "", "");
    for (const char* spec : {"dqsg:s=3", "qsgd", "powersgd", "topk"}) {
      CompressOptions options;
      options.outPath = (tmp / "compressed.h5").string();
      RunCompress(source, *BuiltinRegistry().Make(spec), all, options);
      keep(options.outPath);
    }
  }
  std::filesystem::remove_all(tmp);
  return count;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seed_corpus OUT\n");
    return 1;
  }
  const std::filesystem::path out(argv[1]);
  std::filesystem::create_directories(out / "decode");
  std::filesystem::create_directories(out / "codes");
  std::filesystem::create_directories(out / "dump");
  const std::size_t d = DecodeSeeds(out / "decode"), c = CodeSeeds(out / "codes"),
                    f = DumpSeeds(out / "dump");
  std::printf("wrote %zu decode seeds, %zu code seeds and %zu dump seeds to %s\n", d, c, f,
              argv[1]);
  return 0;
}
