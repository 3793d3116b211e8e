#include "gradquant/optimize/slab_set.hpp"

#include "gradquant/core/parallel.hpp"

namespace gradquant {

std::uint64_t SlabSet::Coordinates() const {
  std::uint64_t n = 0;
  for (const auto& layer : layers) n += layer.n;
  return n;
}

SlabSet LoadSlabs(const Dump& dump, const Selection& selection) {
  SlabSet set;
  set.workers = dump.Workers();
  for (std::size_t l : selection.layers) set.layers.push_back(dump.Layers()[l]);
  for (std::size_t r : selection.records) {
    set.steps.push_back(static_cast<std::uint64_t>(dump.Steps()[r]));
  }
  set.slabs.resize(selection.layers.size());
  for (std::size_t li = 0; li < selection.layers.size(); ++li) {
    set.slabs[li].resize(selection.records.size());
    for (std::size_t ri = 0; ri < selection.records.size(); ++ri) {
      auto& group = set.slabs[li][ri];
      group.resize(set.workers);
      ParallelFor(set.workers, [&](std::size_t w) {
        group[w] = dump.ReadSlab(selection.layers[li], selection.records[ri], w);
      });
    }
  }
  return set;
}

}  // namespace gradquant
