#include "gradquant/core/memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gradquant {

void RetainFreedMemory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);                 // large blocks from the heap too
  mallopt(M_TRIM_THRESHOLD, 1 << 30);     // keep up to 1 GiB of free top-of-heap memory
  mallopt(M_TOP_PAD, 64 << 20);           // grow the heap in 64 MiB steps
#endif
}

}  // namespace gradquant
