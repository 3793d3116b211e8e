#pragma once
/**
 * @file radix_sort.hpp
 * Sorting large pools of doubles in linear time (the KS distances of `analyze` sort every
 * coordinate of every worker of a layer: 40 M values took 6.8 s with std::sort, 0.6 s here).
 */
#include <vector>

namespace gradquant {

/**
 * Sorts @p values ascending, like std::sort for values without NaN: the result compares equal
 * element by element (−0 is placed before +0, which std::sort leaves in either order). LSD radix
 * sort on 16-bit digits of an order-preserving key, skipping digits all values share; needs one
 * extra buffer of values.size() words.
 */
void RadixSort(std::vector<double>& values);

}  // namespace gradquant
