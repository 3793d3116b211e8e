#pragma once
/**
 * @file parallel.hpp
 * OpenMP loops that keep gradquant's guarantees: results do not depend on the thread count
 * (each item is computed alone and written to its own slot), and an exception thrown by an item
 * is carried out of the parallel region and rethrown (the one of the lowest index), instead of
 * terminating the program as an exception escaping an OpenMP region would.
 */
#include <cstddef>
#include <exception>
#include <vector>

namespace gradquant {

/** Runs body(i) for i in [0, n) on the OpenMP threads; rethrows the lowest-index exception. */
template <class Body>
void ParallelFor(std::size_t n, Body&& body) {
  std::vector<std::exception_ptr> errors(n);
#pragma omp parallel for schedule(dynamic, 1)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    try {
      body(static_cast<std::size_t>(i));
    } catch (...) {
      errors[static_cast<std::size_t>(i)] = std::current_exception();
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

/**
 * Pins OpenBLAS to one thread: gradquant parallelises at the outer level (workers, layers), and
 * BLAS threads inside OpenMP regions would oversubscribe the cores.
 */
void PinBlasThreads();

}  // namespace gradquant
