#pragma once
/**
 * @file self_contained.hpp
 * Internal to io/: a file gradquant opens must hold everything it names. HDF5 can make a file
 * point elsewhere: an external link (an object of another file), a soft link (a path that
 * resolves at access time), external raw storage (a dataset whose values are the bytes of
 * other files, H5Pset_external) and a virtual dataset (values mapped from other datasets,
 * possibly in other files). gradquant refuses all four before it reads a value, so it never
 * reads outside the file it was given (docs/security.md).
 */
#include <string>

#include "gradquant/io/h5_detail.hpp"

namespace gradquant::detail {

/**
 * Walks every link of @p file once, without following any: each must be a hard link, and each
 * dataset must keep its values in the file (contiguous, chunked or compact storage).
 * @throws IoError "<path>: <object> <what it is>; ..." naming the first offending object.
 */
void RequireSelfContained(const std::string& path, const H5::H5File& file);

}  // namespace gradquant::detail
