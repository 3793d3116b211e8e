#include "io/h5_forge.hpp"

#include <H5Cpp.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace gradquant::test {
namespace {

// IEEE half precision, built the way h5py builds it (HDF5 1.10 has no predefined float16).
H5::FloatType Float16() {
  H5::FloatType t(H5::PredType::IEEE_F32LE);
  t.setFields(15, 10, 5, 0, 10);
  t.setSize(2);
  t.setEbias(15);
  return t;
}

H5::DataType StorageType(ForgeType type) {
  switch (type) {
    case ForgeType::kFloat32:
      return H5::PredType::IEEE_F32LE;
    case ForgeType::kFloat64:
      return H5::PredType::IEEE_F64LE;
    case ForgeType::kFloat16:
      return Float16();
    case ForgeType::kInt32:
      return H5::PredType::STD_I32LE;
  }
  throw std::logic_error("unknown ForgeType");
}

void StringAttr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  H5::Attribute a = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  a.write(type, &p);
}

void IntAttr(H5::H5Object& obj, const std::string& name, const std::vector<std::int64_t>& v,
             bool scalar) {
  const hsize_t n = v.size();
  H5::DataSpace space = scalar ? H5::DataSpace(H5S_SCALAR) : H5::DataSpace(1, &n);
  H5::Attribute a = obj.createAttribute(name, H5::PredType::STD_I64LE, space);
  if (!v.empty()) a.write(H5::PredType::NATIVE_INT64, v.data());
}

void WriteLayer(H5::Group& grads, const ForgeLayer& layer, std::size_t l, const ForgeSpec& spec) {
  std::vector<hsize_t> dims(layer.dims.begin(), layer.dims.end());
  H5::DSetCreatPropList props;
  if (!layer.chunks.empty()) {
    std::vector<hsize_t> chunks(layer.chunks.begin(), layer.chunks.end());
    props.setChunk(static_cast<int>(chunks.size()), chunks.data());
    if (layer.deflateShuffle) {
      props.setShuffle();
      props.setDeflate(4);
      props.setFletcher32();
    }
  }
  const H5::DataSpace space(static_cast<int>(dims.size()), dims.data());
  H5::DataSet ds = grads.createDataSet(layer.name, StorageType(layer.type), space, props);
  if (layer.shape) IntAttr(ds, "shape", *layer.shape, false);
  std::size_t total = 1;
  for (auto d : dims) total *= d;
  if (total == 0) return;
  // Positions are only meaningful for the usual [S, W, N] rank; other ranks get a ramp.
  std::vector<double> data(total);
  for (std::size_t k = 0; k < total; ++k) {
    if (dims.size() == 3) {
      const std::size_t n = dims[2], w = dims[1];
      data[k] = spec.value(l, k / (n * w), (k / n) % w, k % n);
    } else {
      data[k] = spec.value(l, 0, 0, k);
    }
  }
  ds.write(data.data(), H5::PredType::NATIVE_DOUBLE);
}

}  // namespace

double ForgeValue(std::size_t l, std::size_t s, std::size_t w, std::size_t i) {
  const long k = static_cast<long>((l * 37 + s * 11 + w * 5 + i * 3) % 97) - 48;
  return static_cast<double>(k) / 8.0;  // |k| <= 48: exact in float16
}

ForgeSpec ValidSpec(std::size_t records, std::size_t workers) {
  ForgeSpec spec;
  std::vector<std::int64_t> steps;
  for (std::size_t s = 0; s < records; ++s) steps.push_back(static_cast<std::int64_t>(10 * s));
  spec.steps = steps;
  spec.layers = {
      {"a", {records, workers, 6}, std::vector<std::int64_t>{2, 3}, ForgeType::kFloat32, {}, false},
      {"b.bias",
       {records, workers, 4},
       std::vector<std::int64_t>{4},
       ForgeType::kFloat32,
       {},
       false}};
  spec.order = std::vector<std::string>{"a", "b.bias"};
  spec.value = ForgeValue;
  return spec;
}

void Forge(const std::string& path, const ForgeSpec& spec) {
  H5::FileCreatPropList create;
  if (spec.userblock) create.setUserblock(spec.userblock);
  H5::H5File file(path, H5F_ACC_TRUNC, create);
  if (spec.format) StringAttr(file, "gradquant_format", *spec.format);
  if (spec.version) IntAttr(file, "gradquant_version", {*spec.version}, true);
  if (spec.workersAttr) IntAttr(file, "workers", {*spec.workersAttr}, true);
  if (spec.steps) {
    const hsize_t n = spec.steps->size();
    H5::DataSet ds = file.createDataSet("steps", H5::PredType::STD_I64LE, H5::DataSpace(1, &n));
    if (n) ds.write(spec.steps->data(), H5::PredType::NATIVE_INT64);
  }
  if (!spec.withGradients) return;
  H5::Group grads = file.createGroup("gradients");
  if (spec.order) {
    H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
    const hsize_t n = spec.order->size();
    H5::Attribute a = grads.createAttribute("order", type, H5::DataSpace(1, &n));
    std::vector<const char*> ptrs;
    for (const auto& s : *spec.order) ptrs.push_back(s.c_str());
    if (n) a.write(type, ptrs.data());
  }
  for (std::size_t l = 0; l < spec.layers.size(); ++l) WriteLayer(grads, spec.layers[l], l, spec);
}

StoredChunk LocateChunk(const std::string& path, const std::string& dataset,
                        const std::vector<std::uint64_t>& origin) {
  H5::H5File file(path, H5F_ACC_RDONLY);
  H5::DataSet ds = file.openDataSet(dataset);
  const std::vector<hsize_t> at(origin.begin(), origin.end());
  unsigned mask = 0;
  haddr_t address = HADDR_UNDEF;
  hsize_t bytes = 0;
  if (H5Dget_chunk_info_by_coord(ds.getId(), at.data(), &mask, &address, &bytes) < 0 ||
      address == HADDR_UNDEF) {
    throw std::runtime_error("LocateChunk: no chunk at that origin");
  }
  return {file.getCreatePlist().getUserblock() + address, bytes};
}

void PokeGradient(const std::string& path, const std::string& layer, std::uint64_t record,
                  std::uint64_t worker, std::uint64_t index, float value) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet("gradients/" + layer);
  H5::DataSpace space = ds.getSpace();
  const hsize_t offset[3] = {record, worker, index}, count[3] = {1, 1, 1};
  space.selectHyperslab(H5S_SELECT_SET, count, offset);
  const H5::DataSpace mem(3, count);
  ds.write(&value, H5::PredType::NATIVE_FLOAT, mem, space);
}

namespace {

template <class T>
std::vector<T> ReadAll(const std::string& path, const std::string& dataset,
                       const H5::PredType& type) {
  H5::H5File file(path, H5F_ACC_RDONLY);
  H5::DataSet ds = file.openDataSet(dataset);
  std::vector<T> out(static_cast<std::size_t>(ds.getSpace().getSimpleExtentNpoints()));
  if (!out.empty()) ds.read(out.data(), type);
  return out;
}

}  // namespace

std::vector<float> ReadFloats(const std::string& path, const std::string& dataset) {
  return ReadAll<float>(path, dataset, H5::PredType::NATIVE_FLOAT);
}

std::vector<std::uint8_t> ReadBytes(const std::string& path, const std::string& dataset) {
  return ReadAll<std::uint8_t>(path, dataset, H5::PredType::NATIVE_UINT8);
}

std::vector<std::uint64_t> ReadU64(const std::string& path, const std::string& dataset) {
  return ReadAll<std::uint64_t>(path, dataset, H5::PredType::NATIVE_UINT64);
}

void WriteBytes(const std::string& path, const std::string& dataset,
                const std::vector<std::uint8_t>& bytes) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet(dataset);
  const hsize_t n = bytes.size();
  ds.extend(&n);
  if (n) ds.write(bytes.data(), H5::PredType::NATIVE_UINT8);
}

void WriteU64(const std::string& path, const std::string& dataset,
              const std::vector<std::uint64_t>& values) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet(dataset);
  ds.write(values.data(), H5::PredType::NATIVE_UINT64);
}

void WriteI64(const std::string& path, const std::string& dataset,
              const std::vector<std::int64_t>& values) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet(dataset);
  ds.write(values.data(), H5::PredType::NATIVE_INT64);
}

void ReplaceIntAttr(const std::string& path, const std::string& object, const std::string& name,
                    std::int64_t value, bool unsignedType) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::Group g = file.openGroup(object);
  if (g.attrExists(name)) g.removeAttr(name);
  H5::Attribute a =
      g.createAttribute(name, unsignedType ? H5::PredType::STD_U64LE : H5::PredType::STD_I64LE,
                        H5::DataSpace(H5S_SCALAR));
  a.write(H5::PredType::NATIVE_INT64, &value);
}

void ReplaceStringAttr(const std::string& path, const std::string& object, const std::string& name,
                       const std::string& value) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::Group g = file.openGroup(object);
  if (g.attrExists(name)) g.removeAttr(name);
  StringAttr(g, name, value);
}

void ReplaceIntArrayAttr(const std::string& path, const std::string& dataset,
                         const std::string& name, const std::vector<std::int64_t>& values) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::DataSet ds = file.openDataSet(dataset);
  if (ds.attrExists(name)) ds.removeAttr(name);
  IntAttr(ds, name, values, false);
}

void ReplaceStorage(const std::string& path, const std::string& layer, StorageKind kind,
                    const std::string& source) {
  H5::H5File file(path, H5F_ACC_RDWR);
  H5::Group grads = file.openGroup("gradients");
  std::vector<std::int64_t> shape;
  H5::DataSpace space;
  {
    const H5::DataSet old = grads.openDataSet(layer);
    space = old.getSpace();
    const H5::Attribute a = old.openAttribute("shape");
    shape.resize(static_cast<std::size_t>(a.getSpace().getSimpleExtentNpoints()));
    a.read(H5::PredType::NATIVE_INT64, shape.data());
  }
  grads.unlink(layer);
  H5::DSetCreatPropList props;
  if (kind == StorageKind::kExternalRaw) {
    const hsize_t bytes = static_cast<hsize_t>(space.getSimpleExtentNpoints()) * 4;
    H5Pset_external(props.getId(), source.c_str(), 0, bytes);
  } else {
    const auto colon = source.find(':');
    H5Pset_virtual(props.getId(), space.getId(), source.substr(0, colon).c_str(),
                   source.substr(colon + 1).c_str(), space.getId());
  }
  H5::DataSet ds = grads.createDataSet(layer, H5::PredType::IEEE_F32LE, space, props);
  IntAttr(ds, "shape", shape, false);
}

void AddLink(const std::string& path, const std::string& link, LinkKind kind,
             const std::string& target) {
  H5::H5File file(path, H5F_ACC_RDWR);
  const hid_t root = file.getId();
  if (H5Lexists(root, link.c_str(), H5P_DEFAULT) > 0) H5Ldelete(root, link.c_str(), H5P_DEFAULT);
  herr_t status = -1;
  if (kind == LinkKind::kSoft) {
    status = H5Lcreate_soft(target.c_str(), root, link.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  } else {
    const auto colon = target.find(':');
    status = H5Lcreate_external(target.substr(0, colon).c_str(), target.substr(colon + 1).c_str(),
                                root, link.c_str(), H5P_DEFAULT, H5P_DEFAULT);
  }
  if (status < 0) throw std::runtime_error("AddLink: cannot create " + link);
}

std::vector<std::string> Members(const std::string& path, const std::string& group) {
  H5::H5File file(path, H5F_ACC_RDONLY);
  H5::Group g = file.openGroup(group);
  std::vector<std::string> out;
  for (hsize_t i = 0; i < g.getNumObjs(); ++i) out.push_back(g.getObjnameByIdx(i));
  return out;
}

void CopyPrefix(const std::string& from, const std::string& to, std::uint64_t bytes) {
  std::ifstream in(from, std::ios::binary);
  std::vector<char> buf(bytes);
  in.read(buf.data(), static_cast<std::streamsize>(bytes));
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out.write(buf.data(), in.gcount());
}

std::uint64_t FileSize(const std::string& path) { return std::filesystem::file_size(path); }

}  // namespace gradquant::test
