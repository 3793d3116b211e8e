#pragma once
/**
 * @file memory.hpp
 * Allocator settings for slab-sized buffers. glibc serves blocks above 32 MiB with mmap and
 * unmaps them on free, so every fresh 64 MB reconstruction costs 16 k page faults and the
 * kernel zeroing 64 MB, often more than the quantizer itself. Keeping freed heap memory for
 * reuse removes that cost from repeated runs (bench) without changing a single result.
 */

namespace gradquant {

/**
 * Makes glibc serve large blocks from one heap for every thread and keep freed memory for
 * reuse (no mmap per block, no trimming). The peak resident memory is the peak heap, as
 * before. No-op elsewhere.
 */
void RetainFreedMemory();

}  // namespace gradquant
