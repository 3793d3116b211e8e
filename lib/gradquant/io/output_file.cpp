#include "gradquant/io/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <vector>

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

// "<dir>/.<base>.tmp.<6 random characters>", within NAME_MAX however long <base> is.
std::string TempNameFor(const std::string& path) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  static std::atomic<std::uint64_t> counter{0};
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::size_t kSuffix = 1 + 5 + 6;  // "." + ".tmp." + random
  if (base.size() + kSuffix > NAME_MAX) base.resize(NAME_MAX - kSuffix);
  // Unpredictable enough that a planted name is unlikely to be hit, and never trusted anyway:
  // the file is created exclusively (O_EXCL does not follow a link at the final component).
  std::uint64_t x =
      (static_cast<std::uint64_t>(getpid()) << 32) ^
      static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      (counter.fetch_add(1) * 0x9e3779b97f4a7c15ull) ^ std::random_device{}();
  std::string name = dir + "." + base + ".tmp.";
  for (int i = 0; i < 6; ++i) {
    name += kAlphabet[x % (sizeof kAlphabet - 1)];
    x /= sizeof kAlphabet - 1;
  }
  return name;
}

// An existing target must be a regular file: renaming over a directory fails late, and over a
// device (as root, `-o /dev/full`) would replace the device node.
void CheckTarget(const std::string& path) {
  if (path.empty()) throw IoError("output path is empty");
  if (path.back() == '/') throw IoError(path + ": output path names a folder");
  struct stat st {};
  // lstat: a symbolic link at the target is replaced by the rename, never written through.
  if (lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return;
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
  // Claim a fresh name exclusively: O_EXCL fails on anything already there, a planted
  // symbolic link included, so nothing is ever written through a link.
  for (int attempt = 0;; ++attempt) {
    impl_->temp = TempNameFor(path);
    const int fd =
        open(impl_->temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      break;
    }
    const int err = errno;
    if (err != EEXIST || attempt == 100) {
      throw IoError(path + ": cannot create the output file (" + std::strerror(err) + ")");
    }
  }
  try {
    impl_->slot = AddPending(path, impl_->temp);
  } catch (...) {
    unlink(impl_->temp.c_str());
    throw;
  }
  try {
    // HDF5 opens the file we own by name; H5F_ACC_TRUNC keeps the inode and its permissions.
    // File format 1.8 so that an attribute past 64 KiB (the order of thousands of layers) goes
    // to dense storage instead of failing.
    H5::FileAccPropList fapl;
    H5Pset_libver_bounds(fapl.getId(), H5F_LIBVER_V18, H5F_LIBVER_V18);
    impl_->h5 = std::make_unique<H5::H5File>(impl_->temp, H5F_ACC_TRUNC,
                                             H5::FileCreatPropList::DEFAULT, fapl);
  } catch (const H5::Exception& e) {
    unlink(impl_->temp.c_str());
    DropPending(impl_->slot);
    throw IoError(path + ": cannot create the output file (" + e.getDetailMsg() + ")");
  }
}

OutputFile::~OutputFile() {
  if (impl_->committed) return;
  try {
    Close();
  } catch (...) {
  }
  unlink(impl_->temp.c_str());
  DropPending(impl_->slot);
}

H5::H5File& OutputFile::Impl::File() {
  if (!h5) throw IoError(path + ": the output file is already closed");
  return *h5;
}

void OutputFile::Close() {
  if (!impl_->h5) return;
  std::unique_ptr<H5::H5File> h5 = std::move(impl_->h5);
  try {
    h5->close();
  } catch (const H5::Exception& e) {
    // Never closed or destroyed again (a second H5Fclose of a file whose close failed crashes
    // HDF5 1.10): kept reachable until the process exits, which it is about to.
    static auto* abandoned = new std::vector<std::unique_ptr<H5::H5File>>;
    abandoned->push_back(std::move(h5));
    detail::NoteWriteFailed();
    throw IoError(impl_->path + ": writing failed (" + detail::Hdf5Reason(e) + ")");
  }
  // A dataset whose close failed may have lost values even when the file then closed.
  if (detail::WriteFailedOnce()) {
    throw IoError(impl_->path + ": writing failed (a dataset could not be written out)");
  }
  // On disk before it takes the target's name, so a crash never leaves a truncated target.
  const int fd = open(impl_->temp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    const int err = errno;
    if (fd >= 0) close(fd);
    throw IoError(impl_->path + ": writing failed (" + std::strerror(err) + ")");
  }
  close(fd);
}

void OutputFile::Commit() {
  Close();
  if (std::rename(impl_->temp.c_str(), impl_->path.c_str()) != 0) {
    throw IoError(impl_->path + ": cannot move the finished output into place (" +
                  std::strerror(errno) + ")");
  }
  impl_->committed = true;
  DropPending(impl_->slot);
}

const std::string& OutputFile::Path() const { return impl_->path; }
const std::string& OutputFile::TempPath() const { return impl_->temp; }

bool OutputWriteFailed() { return detail::WriteFailedOnce(); }

void RemovePendingOutputs() {
  // Called from a signal handler: no locking, only atomics and unlink(2).
  for (auto& slot : g_pending) {
    if (slot.used.load(std::memory_order_acquire)) unlink(slot.path);
  }
}

}  // namespace gradquant
