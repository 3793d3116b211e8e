#pragma once
/** @file progress.hpp How a long library call reports progress without printing. */
#include <cstddef>
#include <functional>

namespace gradquant {

/** Called after each unit of work (an item of a run) with the units done and the total. */
using Progress = std::function<void(std::size_t done, std::size_t total)>;

}  // namespace gradquant
