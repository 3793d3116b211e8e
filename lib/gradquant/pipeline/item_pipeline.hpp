#pragma once
/**
 * @file item_pipeline.hpp
 * The one scheduler of a run's (layer, record) items: compress, analyze and optimize stream a
 * dump through it.
 *
 * Each item goes through three stages, run as OpenMP tasks:
 * - read(j): side by side with other reads and computations (the dump reader is thread-safe);
 * - compute(j): side by side with other items, except that the records of a *stateful* layer
 *   (a quantizer carrying LayerState from record to record) are computed in record order;
 * - commit(j): one at a time, in item order (where results are written and sums added, so
 *   they do not depend on the thread count).
 * Item j is layer j / records, record j % records. The read of item j + T waits for the commit
 * of item j (T = threads), so at most about T + 1 items hold memory whatever the run's size.
 *
 * A stage that throws marks its item failed; later stages of that item and every stage of
 * later items are skipped, the items in flight finish, and the failure of the lowest item is
 * rethrown: the error a plain loop would have met first.
 */
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <vector>

namespace gradquant {

/**
 * Runs @p layers × @p records items through read, compute and commit (each called with the
 * item's index j); see the file comment. @p stateful[l] says whether layer l's records must be
 * computed in order. The callables must outlive the call (they do: they are references).
 */
template <class Read, class Compute, class Commit>
void RunItemPipeline(std::size_t layers, std::size_t records, const std::vector<char>& stateful,
                     Read&& read, Compute&& compute, Commit&& commit) {
  const std::size_t items = layers * records;
  if (items == 0) return;
  std::vector<std::exception_ptr> errors(items);
  std::atomic<std::size_t> failedAt{items};  // lowest item with an error: later ones stop
  auto stage = [&](std::size_t j, auto& body) {
    if (errors[j] || j > failedAt.load()) return;
    try {
      body(j);
    } catch (...) {
      errors[j] = std::current_exception();
      std::size_t seen = failedAt.load();
      while (j < seen && !failedAt.compare_exchange_weak(seen, j)) {
      }
    }
  };
  std::vector<char> readDone(items), computed(items), committed(items);
  char none = 0;  // a dependence on nothing
  [[maybe_unused]] char commitToken = 0;
  const std::size_t lookahead =
      std::max<std::size_t>(1, static_cast<std::size_t>(omp_get_max_threads()));
  // Defined outside the parallel region: its tasks reach `stage` through this closure, which
  // must outlive them (a closure inside the single block dies before the barrier that waits for
  // the tasks).
  auto readAndCompute = [&](std::size_t j) {
    const std::size_t l = j / records, r = j % records;
    // GCC does not count a use in a depend clause, hence [[maybe_unused]].
    [[maybe_unused]] char* previousCompute = r > 0 && stateful[l] ? &computed[j - 1] : &none;
    [[maybe_unused]] char* freedSlot = j >= lookahead ? &committed[j - lookahead] : &none;
    [[maybe_unused]] char* thisRead = &readDone[j];
    [[maybe_unused]] char* thisCompute = &computed[j];
#pragma omp task depend(in : freedSlot[0]) depend(out : thisRead[0])
    stage(j, read);
#pragma omp task depend(in : thisRead[0], previousCompute[0]) depend(out : thisCompute[0])
    stage(j, compute);
  };
#pragma omp parallel
#pragma omp single
  {
    for (std::size_t j = 0; j < std::min(lookahead, items); ++j) readAndCompute(j);
    for (std::size_t j = 0; j < items; ++j) {
      [[maybe_unused]] char* thisCompute = &computed[j];
      [[maybe_unused]] char* thisCommit = &committed[j];
#pragma omp task depend(inout : commitToken) depend(in : thisCompute[0]) depend(out : thisCommit[0])
      stage(j, commit);
      if (j + lookahead < items) readAndCompute(j + lookahead);
    }
  }
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace gradquant
