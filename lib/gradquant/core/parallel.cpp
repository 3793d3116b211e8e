#include "gradquant/core/parallel.hpp"

extern "C" void openblas_set_num_threads(int);

namespace gradquant {

void PinBlasThreads() { openblas_set_num_threads(1); }

}  // namespace gradquant
