#include "gradquant/optimize/slab_set.hpp"

namespace gradquant {

SlabSet SelectSlabs(const Dump& dump, const Selection& selection) {
  SlabSet set;
  set.workers = dump.Workers();
  for (std::size_t l : selection.layers) set.layers.push_back(dump.Layers()[l]);
  for (std::size_t r : selection.records) {
    set.steps.push_back(static_cast<std::uint64_t>(dump.Steps()[r]));
  }
  // Dump::ReadSlab is thread-safe (it reads under the dump's lock).
  set.read = [&dump, layers = selection.layers, records = selection.records](std::size_t l,
                                                                             std::size_t r) {
    std::vector<arma::fvec> slabs(dump.Workers());
    for (std::size_t w = 0; w < slabs.size(); ++w)
      slabs[w] = dump.ReadSlab(layers[l], records[r], w);
    return slabs;
  };
  return set;
}

}  // namespace gradquant
