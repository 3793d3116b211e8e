#include "gradquant/optimize/slab_spill.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/io/posix_file.hpp"

namespace gradquant {
namespace {

// An unlinked temporary file, closed with the last reader that holds it.
class SpillFile {
 public:
  explicit SpillFile(std::uint64_t bytes) : room_(std::to_string(bytes) + " bytes") {
    const char* tmp = std::getenv("TMPDIR");
    dir_ = tmp && *tmp ? tmp : "/tmp";
    std::string name = dir_ + "/gradquant-optimize-XXXXXX";
    fd_ = FileDescriptor(mkstemp(name.data()));
    if (fd_.get() < 0) Fail("cannot create", errno);
    unlink(name.c_str());
    const int err = bytes > 0 ? posix_fallocate(fd_.get(), 0, static_cast<off_t>(bytes)) : 0;
    if (err != 0) Fail("cannot reserve room for", err);
  }

  void Write(const arma::fvec& slab, std::uint64_t offset) const {
    const int err = WriteFully(fd_.get(), offset, slab.n_elem * sizeof(float), slab.memptr());
    if (err != 0) Fail("cannot write", err);
  }
  void Read(arma::fvec& slab, std::uint64_t offset) const {
    const int err = ReadFully(fd_.get(), offset, slab.n_elem * sizeof(float), slab.memptr());
    if (err != 0) Fail("cannot read back", err);
  }

 private:
  [[noreturn]] void Fail(const std::string& what, int err) const {
    throw IoError(dir_ + ": " + what + " the temporary copy of the selected slabs (" +
                  std::strerror(err) + "; it needs " + room_ +
                  "): set TMPDIR to a folder with room, or select fewer layers or records");
  }

  std::string dir_, room_;
  FileDescriptor fd_;
};

}  // namespace

SlabSet SpillSlabs(const SlabSet& set) {
  const std::size_t records = set.steps.size(), workers = set.workers;
  // Item (l, r) starts at byte start[l·records + r]: its W slabs of layers[l].n floats in order.
  std::vector<std::uint64_t> start(set.layers.size() * records + 1, 0);
  for (std::size_t i = 0; i + 1 < start.size(); ++i) {
    start[i + 1] = start[i] + workers * set.layers[i / records].n * sizeof(float);
  }
  const auto file = std::make_shared<const SpillFile>(start.back());
  ParallelFor(start.size() - 1, [&](std::size_t i) {
    std::uint64_t offset = start[i];
    for (const arma::fvec& slab : set.Read(i / records, i % records)) {
      file->Write(slab, offset);
      offset += slab.n_elem * sizeof(float);
    }
  });
  SlabSet copy;
  copy.layers = set.layers;
  copy.steps = set.steps;
  copy.workers = workers;
  copy.read = [file, start = std::move(start), layers = set.layers, records, workers](
                  std::size_t l, std::size_t r) {
    std::vector<arma::fvec> slabs(workers);
    std::uint64_t offset = start[l * records + r];
    for (arma::fvec& slab : slabs) {
      slab.set_size(layers[l].n);
      file->Read(slab, offset);
      offset += slab.n_elem * sizeof(float);
    }
    return slabs;
  };
  return copy;
}

}  // namespace gradquant
