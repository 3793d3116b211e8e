#include "gradquant/core/cpu.hpp"

#include <atomic>

namespace gradquant {
namespace {

std::atomic<bool> forcePortable{false};

}  // namespace

bool UseAvx2() {
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has && !forcePortable.load(std::memory_order_relaxed);
}

void ForcePortablePaths(bool portable) { forcePortable.store(portable); }

}  // namespace gradquant
