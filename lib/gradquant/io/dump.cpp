#include "gradquant/io/dump.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "gradquant/core/error.hpp"
#include "gradquant/core/finite.hpp"
#include "gradquant/io/direct_read.hpp"
#include "gradquant/io/h5_detail.hpp"
#include "gradquant/io/hdf5_lock.hpp"
#include "gradquant/io/posix_file.hpp"
#include "gradquant/io/self_contained.hpp"

namespace gradquant {

using detail::Bad;
using detail::Guard;

namespace {

struct OpenFile {
  DumpFile info;
  H5::H5File h5;
  std::vector<H5::DataSet> layers;           // in model order
  std::vector<detail::DirectLayout> direct;  // per layer: how ReadSlab may bypass H5Dread
  FileDescriptor fd;  // the same file, for the direct reads (-1: none, all reads go through HDF5)
};

void CheckPathIsFile(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw IoError(path + ": no such file");
  if (S_ISDIR(st.st_mode)) throw IoError(path + ": is a directory, expected an HDF5 dump file");
  if (st.st_size == 0) throw IoError(path + ": is empty, expected an HDF5 dump file");
  // A file that cannot be opened (EACCES, EMFILE) is not "not an HDF5 file": say why.
  {
    const FileDescriptor probe(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (probe.get() < 0) {
      throw IoError(path + ": cannot be opened (" + std::strerror(errno) + ")");
    }
  }
  errno = 0;
  const htri_t hdf5 = H5Fis_hdf5(path.c_str());
  if (hdf5 < 0) {  // HDF5 could not even look (its open failed), which is not a verdict
    throw IoError(path + ": cannot be opened (" +
                  (errno ? std::strerror(errno) : "HDF5 could not read its signature") + ")");
  }
  if (hdf5 == 0) throw IoError(path + ": is not an HDF5 file");
}

std::vector<std::int64_t> ReadSteps(const std::string& path, const H5::H5File& h5) {
  if (!detail::HasLink(h5, "steps")) Bad(path, "/steps", "is missing");
  std::vector<std::int64_t> steps;
  Guard(path, "/steps", [&] {
    const H5::DataSet ds = h5.openDataSet("steps");
    const auto dims = detail::Dims(ds);
    if (dims.size() != 1)
      Bad(path, "/steps", "has " + std::to_string(dims.size()) + " axes, expected 1 [S]");
    if (ds.getDataType().getClass() != H5T_INTEGER)
      Bad(path, "/steps", "is not an integer dataset");
    if (dims[0] == 0) Bad(path, "/steps", "is empty (S = 0), expected at least one record");
    steps.resize(dims[0]);
    ds.read(steps.data(), H5::PredType::NATIVE_INT64);
  });
  for (std::size_t i = 1; i < steps.size(); ++i) {
    if (steps[i] <= steps[i - 1]) {
      Bad(path, "/steps",
          "is not strictly increasing (" + std::to_string(steps[i - 1]) + " then " +
              std::to_string(steps[i]) + " at record " + std::to_string(i) + ")");
    }
  }
  return steps;
}

// A parameter's name goes into one-line errors, CSV rows and regex matches: it must be a plain
// member name of /gradients, printable and of bounded length.
void CheckLayerName(const std::string& path, const std::string& object, const std::string& name) {
  if (name.empty()) Bad(path, object, "names a parameter with an empty name");
  if (name.size() > kMaxLayerName) {
    Bad(path, object,
        "names a parameter of " + std::to_string(name.size()) + " characters (at most " +
            std::to_string(kMaxLayerName) + ")");
  }
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) Bad(path, object, "names a parameter with a control character");
  }
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    Bad(path, object, "names '" + name + "', which is a path, not a member of /gradients");
  }
}

std::vector<std::string> LayerOrder(const std::string& path, const H5::Group& grads) {
  std::vector<std::string> names;
  if (grads.attrExists("order")) {
    const std::string object = "/gradients attribute 'order'";
    Guard(path, object, [&] { names = detail::ReadStringArrayAttr(grads, "order"); });
    std::set<std::string> seen;
    for (const auto& n : names) {
      CheckLayerName(path, object, n);
      if (!seen.insert(n).second) Bad(path, object, "lists '" + n + "' twice");
      if (!detail::HasLink(grads, n)) {
        Bad(path, object, "names '" + n + "', which is not in /gradients");
      }
    }
    if (names.size() != grads.getNumObjs()) {
      Bad(path, "/gradients attribute 'order'",
          "lists " + std::to_string(names.size()) + " names but the group holds " +
              std::to_string(grads.getNumObjs()));
    }
  } else {
    for (hsize_t i = 0; i < grads.getNumObjs(); ++i) {
      names.push_back(grads.getObjnameByIdx(i));
      CheckLayerName(path, "/gradients", names.back());
    }
    std::sort(names.begin(), names.end());
  }
  if (names.empty()) Bad(path, "/gradients", "holds no parameters");
  return names;
}

// Opens /gradients/<name>, checks [S, W, N], its type and its shape attribute.
LayerInfo CheckLayer(const std::string& path, const H5::Group& grads, const std::string& name,
                     std::size_t records, std::size_t* workers, H5::DataSet* out) {
  const std::string object = "/gradients/" + name;
  LayerInfo layer;
  layer.name = name;
  Guard(path, object, [&] {
    if (grads.childObjType(name) != H5O_TYPE_DATASET) Bad(path, object, "is not a dataset");
    *out = grads.openDataSet(name);
    const auto dims = detail::Dims(*out);
    if (dims.size() != 3) {
      Bad(path, object, "has " + std::to_string(dims.size()) + " axes, expected 3 [S, W, N]");
    }
    if (out->getDataType().getClass() != H5T_FLOAT) {
      Bad(path, object, "is not a floating-point dataset (float16/32/64 expected)");
    }
    if (dims[0] != records) {
      Bad(path, object,
          "has " + std::to_string(dims[0]) + " records but /steps has " + std::to_string(records));
    }
    if (dims[1] == 0) Bad(path, object, "has no workers (W = 0)");
    if (dims[2] == 0) Bad(path, object, "has no coordinates (N = 0)");
    if (*workers == 0) *workers = dims[1];
    if (dims[1] != *workers) {
      Bad(path, object,
          "has " + std::to_string(dims[1]) + " workers, other layers have " +
              std::to_string(*workers));
    }
    layer.n = dims[2];
    if (out->attrExists("shape")) {
      std::uint64_t product = 1;
      for (std::int64_t d : detail::ReadIntArrayAttr(*out, "shape")) {
        if (d <= 0) Bad(path, object, "attribute 'shape' has a non-positive extent");
        layer.shape.push_back(static_cast<std::uint64_t>(d));
        // A wrapped product could match N and hand quantizers an impossible shape.
        if (__builtin_mul_overflow(product, static_cast<std::uint64_t>(d), &product)) {
          Bad(path, object, "attribute 'shape' has a product over 2^64");
        }
      }
      if (product != layer.n) {
        Bad(path, object,
            "attribute 'shape' has product " + std::to_string(product) +
                " but N = " + std::to_string(layer.n));
      }
    } else {
      layer.shape = {layer.n};
    }
  });
  return layer;
}

OpenFile OpenOne(const std::string& path, std::vector<std::int64_t>* steps,
                 std::vector<LayerInfo>* layers) {
  CheckPathIsFile(path);
  OpenFile f;
  f.info.path = path;
  try {
    f.h5.openFile(path, H5F_ACC_RDONLY);
  } catch (const H5::Exception& e) {
    throw IoError(path + ": cannot be opened, a truncated or damaged HDF5 file (" +
                  detail::Hdf5Reason(e) + ")");
  }
  detail::RequireSelfContained(path, f.h5);
  Guard(path, "root attributes", [&] {
    if (!f.h5.attrExists("gradquant_format")) Bad(path, "/", "has no attribute 'gradquant_format'");
    const std::string format = detail::ReadStringAttr(f.h5, "gradquant_format");
    if (format != "gradients") {
      Bad(path, "/", "attribute gradquant_format is '" + format + "', expected 'gradients'");
    }
    if (!f.h5.attrExists("gradquant_version"))
      Bad(path, "/", "has no attribute 'gradquant_version'");
    const std::int64_t version = detail::ReadIntAttr(f.h5, "gradquant_version");
    if (version != 1) {
      Bad(path, "/",
          "attribute gradquant_version is " + std::to_string(version) +
              ", this gradquant reads version 1");
    }
    for (int i = 0; i < f.h5.getNumAttrs(); ++i) {
      const H5::Attribute a = f.h5.openAttribute(static_cast<unsigned>(i));
      f.info.attributes[a.getName()] = detail::AttrAsText(a);
    }
  });
  const auto fileSteps = ReadSteps(path, f.h5);
  if (steps->empty()) *steps = fileSteps;
  if (fileSteps != *steps) Bad(path, "/steps", "differs from the first file's /steps");
  if (!detail::HasLink(f.h5, "gradients")) Bad(path, "/gradients", "is missing");
  H5::Group grads;
  Guard(path, "/gradients", [&] { grads = f.h5.openGroup("gradients"); });
  const auto names = LayerOrder(path, grads);
  const bool first = layers->empty();
  if (!first && names.size() != layers->size()) {
    Bad(path, "/gradients",
        "has " + std::to_string(names.size()) + " parameters but the first file has " +
            std::to_string(layers->size()));
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    H5::DataSet ds;
    LayerInfo layer = CheckLayer(path, grads, names[i], steps->size(), &f.info.workers, &ds);
    layer.index = static_cast<std::uint32_t>(i);
    if (first) {
      layers->push_back(layer);
    } else if ((*layers)[i].name != layer.name || (*layers)[i].n != layer.n ||
               (*layers)[i].shape != layer.shape) {
      Bad(path, "/gradients/" + layer.name,
          "does not match the first file's parameter " + std::to_string(i) + " ('" +
              (*layers)[i].name + "', N = " + std::to_string((*layers)[i].n) + ")");
    }
    f.direct.push_back(detail::DescribeLayout(f.h5, ds));
    f.layers.push_back(ds);
  }
  f.fd = FileDescriptor(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.h5.attrExists("workers")) {
    std::int64_t declared = 0;
    Guard(path, "/ attribute 'workers'", [&] { declared = detail::ReadIntAttr(f.h5, "workers"); });
    if (declared != static_cast<std::int64_t>(f.info.workers)) {
      Bad(path, "/",
          "attribute workers = " + std::to_string(declared) + " but the datasets have " +
              std::to_string(f.info.workers));
    }
  }
  return f;
}

}  // namespace

struct Dump::Impl {
  std::vector<OpenFile> files;
  std::vector<DumpFile> infos;
  std::vector<std::int64_t> steps;
  std::vector<LayerInfo> layers;
  std::size_t workers = 0;
  NonfinitePolicy nonfinite = NonfinitePolicy::kReject;
  mutable std::atomic<std::uint64_t> directReads{0}, libraryReads{0};
  mutable std::mutex zeroedMutex;
  mutable NonfiniteCount zeroed;  // guarded by zeroedMutex
  // The slabs whose values are in `zeroed`: a slab read again (optimize reads each item more
  // than once) is not counted again. Guarded by zeroedMutex.
  mutable std::set<std::tuple<std::size_t, std::size_t, std::size_t>> zeroedSlabs;
  // (layer, record, worker, index) of zeroed.first: the first in dump order, whatever order
  // the threads read the slabs in.
  mutable std::tuple<std::size_t, std::size_t, std::size_t, std::size_t> firstAt{
      SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX};
};

const char* NonfiniteName(NonfinitePolicy policy) {
  return policy == NonfinitePolicy::kZero ? "zero" : "reject";
}

Dump::Dump(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dump::Dump(Dump&&) noexcept = default;
Dump& Dump::operator=(Dump&&) noexcept = default;
Dump::~Dump() = default;

Dump Dump::Open(const std::vector<std::string>& paths, NonfinitePolicy nonfinite) {
  if (paths.empty()) throw IoError("no dump file given");
  detail::QuietHdf5();
  auto impl = std::make_unique<Impl>();
  impl->nonfinite = nonfinite;
  for (const auto& path : paths) {
    OpenFile f = OpenOne(path, &impl->steps, &impl->layers);
    f.info.firstWorker = impl->workers;
    impl->workers += f.info.workers;
    impl->infos.push_back(f.info);
    impl->files.push_back(std::move(f));
  }
  return Dump(std::move(impl));
}

const std::vector<std::int64_t>& Dump::Steps() const { return impl_->steps; }
std::size_t Dump::Workers() const { return impl_->workers; }
const std::vector<LayerInfo>& Dump::Layers() const { return impl_->layers; }
const std::vector<DumpFile>& Dump::Files() const { return impl_->infos; }
NonfinitePolicy Dump::Nonfinite() const { return impl_->nonfinite; }

NonfiniteCount Dump::Zeroed() const {
  std::lock_guard<std::mutex> lock(impl_->zeroedMutex);
  return impl_->zeroed;
}

SlabReadCounts Dump::ReadCounts() const {
  return {impl_->directReads.load(), impl_->libraryReads.load()};
}

arma::fvec Dump::ReadSlab(std::size_t layer, std::size_t record, std::size_t worker,
                          std::uint64_t* zeroed) const {
  const LayerInfo& info = impl_->layers.at(layer);
  if (record >= impl_->steps.size() || worker >= impl_->workers) {
    throw std::out_of_range("Dump::ReadSlab: record or worker out of range");
  }
  std::size_t f = 0;
  while (worker >= impl_->files[f].info.firstWorker + impl_->files[f].info.workers) ++f;
  const OpenFile& file = impl_->files[f];
  const std::size_t local = worker - file.info.firstWorker;
  const std::string object = "/gradients/" + info.name;
  arma::fvec out(info.n);
  const detail::DirectLayout& direct = file.direct[layer];
  std::vector<detail::DirectPiece> pieces;
  bool planned = false;
  detail::QuietHdf5();  // reads run on worker threads, each with its own HDF5 error printer
  if (direct.usable && file.fd.get() >= 0) {
    std::lock_guard<std::mutex> lock(Hdf5Lock());
    planned = detail::PlanSlab(file.layers[layer], direct, record, local, &pieces);
  }
  if (planned && detail::ReadPieces(file.fd.get(), direct, pieces, out.memptr())) {
    ++impl_->directReads;
  } else {
    ++impl_->libraryReads;
    std::lock_guard<std::mutex> lock(Hdf5Lock());
    Guard(file.info.path, object, [&] {
      detail::ReadBlock(file.layers[layer], H5::PredType::NATIVE_FLOAT, out.memptr(),
                        {record, local, 0}, {1, 1, info.n});
    });
  }
  if (AllFinite(out.memptr(), out.n_elem)) {  // the usual case
    if (zeroed) *zeroed = 0;
    return out;
  }
  std::lock_guard<std::mutex> lock(impl_->zeroedMutex);
  std::uint64_t count = 0;
  for (std::size_t i = 0; i < out.n_elem; ++i) {
    if (std::isfinite(out[i])) continue;
    const char* kind = std::isnan(out[i]) ? "NaN" : "Inf";
    auto where = [&] {
      return "record " + std::to_string(record) + ", worker " + std::to_string(local) + ", index " +
             std::to_string(i);
    };
    if (impl_->nonfinite == NonfinitePolicy::kReject) {
      throw NonfiniteError(file.info.path + ": " + object + " has " + kind + " at " + where());
    }
    if (count == 0 && std::make_tuple(layer, record, worker, i) < impl_->firstAt) {
      impl_->firstAt = std::make_tuple(layer, record, worker, i);
      impl_->zeroed.first = file.info.path + ": " + object + " " + where() + " (" + kind + ")";
    }
    out[i] = 0.0f;
    ++count;
  }
  if (impl_->zeroedSlabs.insert(std::make_tuple(layer, record, worker)).second) {
    impl_->zeroed.count += count;
  }
  if (zeroed) *zeroed = count;
  return out;
}

}  // namespace gradquant
