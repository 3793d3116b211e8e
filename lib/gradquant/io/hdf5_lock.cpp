#include "gradquant/io/hdf5_lock.hpp"

namespace gradquant {

std::mutex& Hdf5Lock() {
  static std::mutex lock;
  return lock;
}

}  // namespace gradquant
