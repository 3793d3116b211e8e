#pragma once
/** @file output_file_impl.hpp Internal to io/: what an OutputFile holds. */
#include <string>

#include "gradquant/io/h5_detail.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant {

struct OutputFile::Impl {
  std::string path;
  std::string temp;
  H5::H5File h5;
  bool committed = false;
  int slot = -1;  ///< entry in the signal-safe list of pending temporary files
};

}  // namespace gradquant
