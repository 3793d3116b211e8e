#pragma once
// A synthetic dump for the pipeline tests (Laplace slabs from the project's generator, 2
// workers) and a reader of a compressed file's /aggregate.
#include <H5Cpp.h>

#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"
#include "test_util.hpp"

namespace gradquant::test {

/** Writes @p layers × @p steps × 2 workers of Laplace(0, 0.01) values, slab (l, r, w) from
 * stream 100 l + 10 r + w. */
inline void WriteLaplaceDump(const std::string& path, const std::vector<LayerInfo>& layers,
                             const std::vector<std::int64_t>& steps) {
  OutputFile out(path);
  DumpWriter writer(out, steps, 2, layers, {}, /*withAggregate=*/false);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    for (std::size_t r = 0; r < steps.size(); ++r) {
      for (std::size_t w = 0; w < 2; ++w) {
        const arma::fvec g = LaplaceSlab(layers[l].n, 0.01, 100 * l + 10 * r + w);
        writer.WriteSlab(l, r, w, g.memptr());
      }
    }
  }
  out.Commit();
}

/** Record @p record of /aggregate/<layer> of a compressed file. */
inline arma::fvec ReadAggregate(const std::string& path, const LayerInfo& layer,
                                std::size_t record) {
  H5::H5File file(path, H5F_ACC_RDONLY);
  H5::DataSet ds = file.openDataSet("aggregate/" + layer.name);
  H5::DataSpace space = ds.getSpace();
  const hsize_t start[2] = {record, 0}, count[2] = {1, layer.n};
  space.selectHyperslab(H5S_SELECT_SET, count, start);
  H5::DataSpace memory(2, count);
  arma::fvec out(layer.n);
  ds.read(out.memptr(), H5::PredType::NATIVE_FLOAT, memory, space);
  return out;
}

}  // namespace gradquant::test
