#include "gradquant/core/memory.hpp"

#include <cstdlib>  // defines __GLIBC__ on glibc systems

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace gradquant {

void RetainFreedMemory() {
#if defined(__GLIBC__)
  // One arena: a thread's own arena grows in heaps of at most 64 MiB and serves any larger
  // block with mmap, unmapped again on free, whatever M_MMAP_MAX says.
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_MAX, 0);              // large blocks from the heap too
  mallopt(M_TRIM_THRESHOLD, 1 << 30);  // keep up to 1 GiB of free top-of-heap memory
  mallopt(M_TOP_PAD, 64 << 20);        // grow the heap in 64 MiB steps
#endif
}

}  // namespace gradquant
