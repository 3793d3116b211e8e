#pragma once
/**
 * @file slab_spill.hpp
 * A SlabSet copied once to a temporary float32 file, for a search that passes over the same
 * slabs many times (the frontier: one pass per evaluated spec). Reading the dump on every pass
 * would inflate a deflated dump every time (about 0.15 GB/s per core here, slower than most
 * quantizers), and convert a float64 or float16 one through HDF5 under its lock; the copy is
 * read with pread, by any number of threads at once, at the speed of the page cache or the
 * disk. Memory stays one item per thread: the copy is on disk, not in the process.
 *
 * The file is created in $TMPDIR (else /tmp) with the room it needs reserved up front, and
 * unlinked at once, so nothing is left behind however the process ends. It takes 4 bytes per
 * selected value: workers × Σ_layers n × records. A $TMPDIR on tmpfs holds it in RAM.
 */
#include "gradquant/optimize/slab_set.hpp"

namespace gradquant {

/**
 * Copies every item of @p set to a temporary file (one pass; items in parallel) and returns a
 * set with the same layers, steps and workers that reads from the copy. The file lives as long
 * as any copy of the returned set.
 * @throws IoError if the file cannot be created, reserved, written or read back (naming the
 *         folder and the room needed); whatever @p set's Read throws.
 */
SlabSet SpillSlabs(const SlabSet& set);

}  // namespace gradquant
