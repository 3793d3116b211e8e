#pragma once
/**
 * @file slab_set.hpp
 * The selected part of a dump as (layer, record) items, each the W workers' slabs of one layer
 * at one record, read on demand. `optimize` holds only the items it is working on (at most one
 * per thread), never the whole selection, so its memory does not grow with the dump: a pass
 * over the set (evaluate.hpp, one per candidate spec) reads every item again, from the dump or
 * from a temporary copy of the selection (slab_spill.hpp).
 */
#include <armadillo>
#include <cstdint>
#include <functional>
#include <vector>

#include "gradquant/core/layer_info.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/pipeline/selection.hpp"

namespace gradquant {

/** Some layers at some records, every worker of each, read item by item. */
struct SlabSet {
  /** Reads item (l, r): the W slabs of layers[l] at record steps[r], each layers[l].n values. */
  using Reader = std::function<std::vector<arma::fvec>(std::size_t l, std::size_t r)>;

  std::vector<LayerInfo> layers;     ///< the selected layers (index = position in the model)
  std::vector<std::uint64_t> steps;  ///< training step of each selected record
  std::size_t workers = 0;           ///< W
  /** Must return the same values on every call and be safe to call from several threads. */
  Reader read;

  /** read(l, r). */
  std::vector<arma::fvec> Read(std::size_t l, std::size_t r) const { return read(l, r); }
};

/**
 * The @p selection of @p dump, read from @p dump (which must outlive the set) on every Read.
 * Read throws IoError on a read failure.
 */
SlabSet SelectSlabs(const Dump& dump, const Selection& selection);

}  // namespace gradquant
