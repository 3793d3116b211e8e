// Kernel golden file: larger slabs than tests/golden/hashes.tsv (chunk, bucket and parallel-split
// boundaries), several workers and records, and everything a run produces: every worker's
// message, every reconstruction and the aggregate, the downlink bits, the theory values and the
// method stats. Written by the kernels as they were before the speed work, so any change of
// bytes, reconstructions, theory or stats by a faster kernel (or by a thread count) fails here.
// GRADQUANT_UPDATE_GOLDEN=1 rewrites the hash columns (commit that only on purpose).
#include <omp.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

// FNV-1a over raw bytes, chained.
struct Fnv {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void Bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    for (std::size_t i = 0; i < size; ++i) {
      h ^= p[i];
      h *= 0x100000001b3ULL;
    }
  }
  void U64(std::uint64_t v) { Bytes(&v, sizeof v); }
  void F64(double v) { Bytes(&v, sizeof v); }
  void Floats(const arma::fvec& v) { Bytes(v.memptr(), v.n_elem * sizeof(float)); }
  void Stats(const SlabStats& s) {
    for (const auto& [key, value] : s) {
      Bytes(key.data(), key.size());
      F64(value);
    }
  }
  std::string Hex() const {
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
  }
};

struct Hashes {
  Fnv messages, recon, theory, stats;
};

std::vector<std::uint64_t> ParseShape(const std::string& text) {
  std::vector<std::uint64_t> shape;  // "12x30" -> {12, 30}
  for (std::size_t start = 0; start <= text.size();) {
    const auto x = text.find('x', start);
    shape.push_back(std::stoull(text.substr(start, x - start)));
    if (x == std::string::npos) break;
    start = x + 1;
  }
  return shape;
}

// Correlated Laplace workers, as in the contract test; "ties" rounds them to multiples of 1/2,
// so that most values are exact zeros and magnitudes tie (selection order, empty buckets).
std::vector<arma::fvec> Slabs(std::size_t n, std::uint32_t workers, std::uint64_t seed,
                              const std::string& data) {
  const arma::fvec common = test::LaplaceSlab(n, 1.0, seed);
  std::vector<arma::fvec> out;
  for (std::uint32_t w = 0; w < workers; ++w) {
    arma::fvec g = common + 0.3f * test::LaplaceSlab(n, 1.0, seed + 100 + w);
    if (data == "ties") g = arma::trunc(g * 0.5f) * 0.5f;
    out.push_back(g);
  }
  return out;
}

// Runs `records` records as compress does (encode, decode, diagnose, theory, observe).
Hashes Run(const Quantizer& q, const LayerInfo& layer, std::uint32_t workers, std::uint64_t records,
           std::uint64_t seed, const std::string& data) {
  Hashes h;
  auto state = q.NewLayerState(layer);
  for (std::uint64_t r = 0; r < records; ++r) {
    SlabContext ctx = test::Context(layer, seed, 10 + r, workers);
    ctx.state = state.get();
    const auto slabs = Slabs(layer.n, workers, seed + 1000 * r, data);
    SlabStats stats;
    const std::vector<Message> messages = q.EncodeGroup(slabs, ctx, &stats);
    for (const auto& m : messages) h.messages.U64(MessageHash(m));
    const GroupResult decoded = q.DecodeGroup(messages, ctx);
    for (const auto& v : decoded.workers) h.recon.Floats(v);
    h.recon.Floats(decoded.aggregate);
    h.recon.U64(decoded.downlinkBits);
    q.Diagnose(slabs, decoded, ctx, &stats);
    h.stats.Stats(stats);
    h.stats.Stats(decoded.stats);
    for (std::uint32_t w = 0; w < workers; ++w) {
      const Theory t = q.ExpectedError(slabs[w], ctx.ForWorker(w));
      h.theory.F64(t.exact);
      h.theory.F64(t.bound);
      h.theory.F64(t.lowerBound);
      if (!std::isnan(t.approx)) h.theory.F64(t.approx);  // rows of methods without one unchanged
    }
    if (state) q.Observe(*state, decoded, ctx);
  }
  return h;
}

}  // namespace

TEST_CASE("Kernels match their golden hashes at 1 and 2 threads", "[golden][kernels]") {
  const std::string path = test::SourcePath("tests/golden/kernel_hashes.tsv");
  std::ifstream in(path);
  REQUIRE(in.good());
  const bool update = std::getenv("GRADQUANT_UPDATE_GOLDEN") != nullptr;
  const int savedThreads = omp_get_max_threads();
  std::ostringstream rewritten;
  std::string line;
  int rows = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      rewritten << line << '\n';
      continue;
    }
    std::istringstream fields(line);
    std::string spec, shapeText, data, msg, recon, theory, stats;
    std::uint64_t seed = 0, records = 0;
    std::uint32_t workers = 0;
    fields >> spec >> seed >> shapeText >> data >> workers >> records >> msg >> recon >> theory >>
        stats;
    const auto q = BuiltinRegistry().Make(spec);
    const LayerInfo layer = test::Layer(ParseShape(shapeText), "kernel", 2);
    for (int threads : {1, 2}) {
      omp_set_num_threads(threads);
      const Hashes h = Run(*q, layer, workers, records, seed, data);
      INFO(spec << " seed " << seed << " shape " << shapeText << " " << data << " threads "
                << threads);
      if (!update) {
        CHECK(h.messages.Hex() == msg);
        CHECK(h.recon.Hex() == recon);
        CHECK(h.theory.Hex() == theory);
        CHECK(h.stats.Hex() == stats);
      } else if (threads == 1) {
        rewritten << spec << '\t' << seed << '\t' << shapeText << '\t' << data << '\t' << workers
                  << '\t' << records << '\t' << h.messages.Hex() << '\t' << h.recon.Hex() << '\t'
                  << h.theory.Hex() << '\t' << h.stats.Hex() << '\n';
      }
    }
    ++rows;
  }
  omp_set_num_threads(savedThreads);
  CHECK(rows > 0);
  if (update) std::ofstream(path) << rewritten.str();
}

}  // namespace gradquant
