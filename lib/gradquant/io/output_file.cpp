#include "gradquant/io/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "gradquant/core/error.hpp"
#include "gradquant/io/output_file_impl.hpp"

namespace gradquant {
namespace {

// The temporary files being written, readable from a signal handler: fixed slots whose `used`
// flag is a lock-free atomic, set only after the path is in place.
constexpr std::size_t kMaxPending = 16;
constexpr std::size_t kMaxPath = 4096;
struct PendingSlot {
  std::atomic<bool> used{false};
  char path[kMaxPath];
};
PendingSlot g_pending[kMaxPending];
std::mutex g_pendingMutex;  // serialises slot allocation between threads (not signals)

int AddPending(const std::string& path, const std::string& temp) {
  if (temp.size() >= kMaxPath) throw IoError(path + ": output path too long");
  std::lock_guard<std::mutex> lock(g_pendingMutex);
  for (std::size_t i = 0; i < kMaxPending; ++i) {
    if (g_pending[i].used.load(std::memory_order_acquire)) continue;
    std::memcpy(g_pending[i].path, temp.c_str(), temp.size() + 1);
    g_pending[i].used.store(true, std::memory_order_release);
    return static_cast<int>(i);
  }
  throw IoError(path + ": too many output files open at once");
}

void DropPending(int slot) {
  if (slot >= 0) g_pending[slot].used.store(false, std::memory_order_release);
}

std::string TempNameFor(const std::string& path) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "." + base + ".tmp." + std::to_string(getpid());
}

// An existing target must be a regular file: renaming over a directory fails late, and over a
// device (as root, `-o /dev/full`) would replace the device node.
void CheckTarget(const std::string& path) {
  if (path.empty()) throw IoError("output path is empty");
  if (path.back() == '/') throw IoError(path + ": output path names a folder");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) throw IoError(path + ": output path is a directory");
  if (!S_ISREG(st.st_mode)) {
    throw IoError(path + ": output path exists and is not a regular file; refusing to replace it");
  }
}

}  // namespace

OutputFile::OutputFile(const std::string& path) : impl_(std::make_unique<Impl>()) {
  detail::QuietHdf5();
  CheckTarget(path);
  impl_->path = path;
  impl_->temp = TempNameFor(path);
  impl_->slot = AddPending(path, impl_->temp);
  // Create the file ourselves first, for a precise reason when the folder is not writable.
  const int fd = open(impl_->temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    const int err = errno;
    DropPending(impl_->slot);
    throw IoError(path + ": cannot create the output file (" + std::strerror(err) + ")");
  }
  close(fd);
  try {
    impl_->h5 = H5::H5File(impl_->temp, H5F_ACC_TRUNC);
  } catch (const H5::Exception& e) {
    std::remove(impl_->temp.c_str());
    DropPending(impl_->slot);
    throw IoError(path + ": cannot create the output file (" + e.getDetailMsg() + ")");
  }
}

OutputFile::~OutputFile() {
  if (impl_->committed) return;
  try {
    impl_->h5.close();
  } catch (...) {
  }
  std::remove(impl_->temp.c_str());
  DropPending(impl_->slot);
}

void OutputFile::Commit() {
  try {
    impl_->h5.flush(H5F_SCOPE_GLOBAL);
    impl_->h5.close();
  } catch (const H5::Exception& e) {
    throw IoError(impl_->path + ": writing failed (" + e.getDetailMsg() + ")");
  }
  // On disk before it takes the target's name, so a crash never leaves a truncated target.
  const int fd = open(impl_->temp.c_str(), O_RDONLY);
  if (fd < 0 || fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    throw IoError(impl_->path + ": writing failed (" + std::strerror(err) + ")");
  }
  close(fd);
  if (std::rename(impl_->temp.c_str(), impl_->path.c_str()) != 0) {
    throw IoError(impl_->path + ": cannot move the finished output into place (" +
                  std::strerror(errno) + ")");
  }
  impl_->committed = true;
  DropPending(impl_->slot);
}

const std::string& OutputFile::Path() const { return impl_->path; }
const std::string& OutputFile::TempPath() const { return impl_->temp; }

void RemovePendingOutputs() {
  // Called from a signal handler: no locking, only atomics and unlink(2).
  for (auto& slot : g_pending) {
    if (slot.used.load(std::memory_order_acquire)) unlink(slot.path);
  }
}

}  // namespace gradquant
