#include "gradquant/coding/index_set.hpp"

#include <stdexcept>
#include <string>

#include "gradquant/coding/codes.hpp"

namespace gradquant {

void PutIndexSet(BitWriter& w, const std::vector<std::uint64_t>& indices, std::uint64_t n) {
  PutGamma(w, static_cast<std::uint64_t>(indices.size()) + 1);
  std::uint64_t next = 0;  // smallest index allowed next
  for (std::uint64_t i : indices) {
    if (i < next || i >= n) {
      throw std::invalid_argument("PutIndexSet: index " + std::to_string(i) +
                                  " breaks strictly increasing order in [0, " + std::to_string(n) +
                                  ")");
    }
    PutGamma(w, i + 1 - next);  // first: 1-based position; then i_j − i_{j−1}
    next = i + 1;
  }
}

std::vector<std::uint64_t> GetIndexSet(BitReader& r, std::uint64_t n) {
  const std::uint64_t countPlusOne = GetGamma(r);
  const std::uint64_t count = countPlusOne - 1;
  if (count > n) {
    r.Fail("index set of " + std::to_string(count) + " entries in a tensor of " +
           std::to_string(n));
  }
  // Every gap takes at least one bit: a count beyond the remaining bits is corrupt (and would
  // otherwise make us reserve memory for a stream that cannot hold it).
  if (count > r.Remaining()) {
    r.Fail("index set of " + std::to_string(count) + " entries in " +
           std::to_string(r.Remaining()) + " remaining bits");
  }
  std::vector<std::uint64_t> out;
  out.reserve(static_cast<std::size_t>(count));
  std::uint64_t next = 0;  // position after the previous index (0 before the first)
  for (std::uint64_t j = 0; j < count; ++j) {
    const std::uint64_t gap = GetGamma(r);
    // index = next + gap − 1 must be < n; written so that it cannot overflow.
    if (gap > n - next) r.Fail("index set entry " + std::to_string(j) + " lies beyond the tensor");
    out.push_back(next + gap - 1);
    next += gap;
  }
  return out;
}

std::uint64_t IndexSetBits(const std::vector<std::uint64_t>& indices) {
  std::uint64_t bits = static_cast<std::uint64_t>(GammaLength(indices.size() + 1));
  std::uint64_t next = 0;
  for (std::uint64_t i : indices) {
    bits += static_cast<std::uint64_t>(GammaLength(i + 1 - next));
    next = i + 1;
  }
  return bits;
}

}  // namespace gradquant
