#include "gradquant/io/output_file.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

#include "gradquant/core/error.hpp"
#include "gradquant/io/output_file_impl.hpp"

namespace gradquant {
namespace {

std::mutex& PendingMutex() {
  static std::mutex m;
  return m;
}
std::set<std::string>& Pending() {
  static std::set<std::string> s;
  return s;
}

std::string TempNameFor(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".tmp." + std::to_string(getpid());
}

}  // namespace

OutputFile::OutputFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  detail::QuietHdf5();
  impl_->path = path;
  impl_->temp = TempNameFor(path);
  if (path.empty() || path.back() == '/') throw IoError(path + ": output path names a folder");
  {
    std::lock_guard<std::mutex> lock(PendingMutex());
    Pending().insert(impl_->temp);
  }
  try {
    impl_->h5 = H5::H5File(impl_->temp, H5F_ACC_TRUNC);
  } catch (const H5::Exception&) {
    std::lock_guard<std::mutex> lock(PendingMutex());
    Pending().erase(impl_->temp);
    throw IoError(path + ": cannot create output file (folder missing or not writable)");
  }
}

OutputFile::~OutputFile() {
  if (impl_->committed) return;
  try {
    impl_->h5.close();
  } catch (...) {
  }
  std::remove(impl_->temp.c_str());
  std::lock_guard<std::mutex> lock(PendingMutex());
  Pending().erase(impl_->temp);
}

void OutputFile::Commit() {
  try {
    impl_->h5.flush(H5F_SCOPE_GLOBAL);
    impl_->h5.close();
  } catch (const H5::Exception& e) {
    throw IoError(impl_->path + ": writing failed (" + e.getDetailMsg() + ")");
  }
  if (std::rename(impl_->temp.c_str(), impl_->path.c_str()) != 0) {
    throw IoError(impl_->path + ": cannot move the finished output into place (" +
                  std::strerror(errno) + ")");
  }
  impl_->committed = true;
  std::lock_guard<std::mutex> lock(PendingMutex());
  Pending().erase(impl_->temp);
}

const std::string& OutputFile::Path() const { return impl_->path; }
const std::string& OutputFile::TempPath() const { return impl_->temp; }

void RemovePendingOutputs() {
  // Called from a signal handler: no locking, only unlink(2), which is async-signal-safe.
  for (const auto& temp : Pending()) unlink(temp.c_str());
}

}  // namespace gradquant
