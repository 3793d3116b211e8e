#pragma once
/**
 * @file parallel.hpp
 * OpenMP loops that keep gradquant's guarantees: results do not depend on the thread count
 * (each item is computed alone and written to its own slot), and an exception thrown by an item
 * is carried out of the parallel region and rethrown (the one of the lowest index), instead of
 * terminating the program as an exception escaping an OpenMP region would.
 *
 * Inside a parallel region of more than one thread (compress runs its (layer, record) items as
 * OpenMP tasks), the loops become tasks of that team, so a large item still spreads over the
 * threads that are free; in a region of one thread they run in order.
 */
#include <omp.h>

#include <cstddef>
#include <exception>
#include <vector>

namespace gradquant {

/** True inside a parallel region whose team has more than one thread. */
inline bool InTeam() { return omp_in_parallel() && omp_get_num_threads() > 1; }

/** Runs body(i) for i in [0, n) on the OpenMP threads; rethrows the lowest-index exception. */
template <class Body>
void ParallelFor(std::size_t n, Body&& body) {
  std::vector<std::exception_ptr> errors(n);
  auto run = [&](std::size_t i) {
    try {
      body(i);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  if (n == 1) {
    run(0);
  } else if (InTeam()) {
    // One task per item for a few (large) items; else a few tasks per thread.
    const std::ptrdiff_t tasks = n <= 64 ? static_cast<std::ptrdiff_t>(n)
                                         : 4 * static_cast<std::ptrdiff_t>(omp_get_num_threads());
#pragma omp taskloop num_tasks(tasks)
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
      run(static_cast<std::size_t>(i));
    }
  } else {
#pragma omp parallel for schedule(dynamic, 1)
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
      run(static_cast<std::size_t>(i));
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

/**
 * True when a loop here may spread over several threads: more than one is allowed outside a
 * parallel region, or we are inside a team of more than one (see the file comment).
 */
inline bool CanSplit() { return omp_in_parallel() ? InTeam() : omp_get_max_threads() > 1; }

/**
 * Runs body(i) for i in [0, n) in order on this thread, or like ParallelFor when n > 1 and
 * CanSplit(). For splitting one slab into pieces whose cut does not depend on the thread count.
 */
template <class Body>
void SplitFor(std::size_t n, Body&& body) {
  if (n > 1 && CanSplit()) {
    ParallelFor(n, body);
  } else {
    for (std::size_t i = 0; i < n; ++i) body(i);
  }
}

/**
 * Pins OpenBLAS to one thread: gradquant parallelises at the outer level (workers, layers), and
 * BLAS threads inside OpenMP regions would oversubscribe the cores.
 */
void PinBlasThreads();

/** The most OpenMP threads gradquant starts: 4 per core, and never more than 256. */
int MaxUsefulThreads();

/**
 * Lowers OpenMP's thread count to MaxUsefulThreads() when it is set higher (OMP_NUM_THREADS=
 * 100000 makes libgomp crash creating the team). @return the count asked for when it was
 * lowered, else 0.
 */
int CapThreads();

}  // namespace gradquant
