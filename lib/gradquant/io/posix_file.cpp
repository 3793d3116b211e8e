#include "gradquant/io/posix_file.hpp"

#include <unistd.h>

#include <cerrno>

namespace gradquant {
namespace {

// Calls op (pread or pwrite) until all @p left bytes have moved.
template <class Byte, class Op>
int MoveFully(int fd, std::uint64_t offset, std::size_t left, Byte* at, Op op) {
  while (left > 0) {
    const ssize_t n = op(fd, at, left, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;  // 0: the file ended early
    at += n;
    left -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return 0;
}

}  // namespace

FileDescriptor::~FileDescriptor() {
  if (fd_ >= 0) close(fd_);
}

int ReadFully(int fd, std::uint64_t offset, std::size_t bytes, void* into) {
  return MoveFully(fd, offset, bytes, static_cast<char*>(into), pread);
}

int WriteFully(int fd, std::uint64_t offset, std::size_t bytes, const void* from) {
  return MoveFully(fd, offset, bytes, static_cast<const char*>(from), pwrite);
}

}  // namespace gradquant
