#pragma once
// Synthetic gradient dumps with known statistics, written through the library's own writer.
#include <armadillo>
#include <functional>
#include <string>
#include <vector>

#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "test_util.hpp"

namespace gradquant::test {

/** The slab of (layer position, record, worker). */
using SlabMaker =
    std::function<arma::fvec(std::size_t layer, std::size_t record, std::size_t worker)>;

/** Writes a dump with @p layers, @p records records (steps 0, 10, 20, ...) and @p workers. */
inline void WriteDump(const std::string& path, const std::vector<LayerInfo>& layers,
                      std::size_t records, std::size_t workers, const SlabMaker& make) {
  std::vector<std::int64_t> steps;
  for (std::size_t r = 0; r < records; ++r) steps.push_back(static_cast<std::int64_t>(10 * r));
  OutputFile out(path);
  DumpWriter writer(out, steps, workers, layers, RootAttributes{}, /*withAggregate=*/false);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (std::size_t r = 0; r < records; ++r) {
      for (std::size_t w = 0; w < workers; ++w) {
        const arma::fvec g = make(l, r, w);
        writer.WriteSlab(l, r, w, g.memptr());
      }
    }
  }
  out.Commit();
}

/** A distinct test-stream seed for (layer, record, worker) under @p base. */
inline std::uint64_t SlabSeed(std::uint64_t base, std::size_t layer, std::size_t record,
                              std::size_t worker) {
  return base * 1000003u + layer * 10007u + record * 101u + worker;
}

}  // namespace gradquant::test
