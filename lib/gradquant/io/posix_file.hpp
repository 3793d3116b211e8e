#pragma once
/**
 * @file posix_file.hpp
 * A file descriptor that closes itself, and positioned reads and writes that move every byte
 * (retrying short transfers and EINTR): what the direct slab reader (direct_read.hpp) and
 * optimize's temporary copy (slab_spill.hpp) both need from a plain file.
 */
#include <cstddef>
#include <cstdint>
#include <utility>

namespace gradquant {

/** Owns a file descriptor (-1: none) and closes it when destroyed. Move-only. */
class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
  int get() const { return fd_; }

 private:
  int fd_ = -1;
};

/**
 * Reads @p bytes bytes at @p offset of @p fd into @p into.
 * @return 0, or the errno of the failing read (EIO when the file ends first).
 */
int ReadFully(int fd, std::uint64_t offset, std::size_t bytes, void* into);

/** Writes @p bytes bytes from @p from at @p offset of @p fd; returns 0 or the errno. */
int WriteFully(int fd, std::uint64_t offset, std::size_t bytes, const void* from);

}  // namespace gradquant
