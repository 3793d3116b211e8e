#pragma once
/** @file output_file_impl.hpp Internal to io/: what an OutputFile holds. */
#include <memory>
#include <string>

#include "gradquant/io/h5_detail.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant {

struct OutputFile::Impl {
  std::string path;
  std::string temp;
  /// The open file; null once closed. HDF5 1.10 leaves a file whose close failed (a full disk)
  /// half destroyed, and closing it again crashes, so it is closed at most once.
  std::unique_ptr<H5::H5File> h5;
  bool committed = false;
  int slot = -1;  ///< entry in the signal-safe list of pending temporary files

  /** The open file. @throws IoError once it is closed. */
  H5::H5File& File();
};

}  // namespace gradquant
