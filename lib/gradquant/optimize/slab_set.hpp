#pragma once
/**
 * @file slab_set.hpp
 * The selected part of a dump held in memory: `optimize` evaluates many candidate quantizers on
 * the same slabs, so it reads each (layer, record, worker) slab once. Memory is
 * 4·(selected coordinates)·records·workers bytes; narrow big dumps with --layers/--records.
 */
#include <armadillo>
#include <cstdint>
#include <vector>

#include "gradquant/core/layer_info.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/pipeline/selection.hpp"

namespace gradquant {

/** Slabs of some layers at some records, every worker of each. */
struct SlabSet {
  std::vector<LayerInfo> layers;     ///< the selected layers (index = position in the model)
  std::vector<std::uint64_t> steps;  ///< training step of each selected record
  std::size_t workers = 0;           ///< W
  /** slabs[l][r][w]: layer l, record r, worker w; each layers[l].n values. */
  std::vector<std::vector<std::vector<arma::fvec>>> slabs;

  /** Selected coordinates per worker per record: the sum of the layers' n. */
  std::uint64_t Coordinates() const;
};

/**
 * Reads the @p selection of @p dump into memory.
 * @throws IoError on a read failure.
 */
SlabSet LoadSlabs(const Dump& dump, const Selection& selection);

}  // namespace gradquant
