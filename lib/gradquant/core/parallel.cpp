#include "gradquant/core/parallel.hpp"

#include <algorithm>

extern "C" void openblas_set_num_threads(int);

namespace gradquant {

void PinBlasThreads() { openblas_set_num_threads(1); }

int MaxUsefulThreads() {
  const int cores = std::max(1, omp_get_num_procs());
  return std::min(256, 4 * cores);
}

int CapThreads() {
  const int asked = omp_get_max_threads();
  if (asked <= MaxUsefulThreads()) return 0;
  omp_set_num_threads(MaxUsefulThreads());
  return asked;
}

}  // namespace gradquant
