#include "gradquant/io/h5_detail.hpp"

#include <atomic>
#include <mutex>
#include <sstream>

#include "gradquant/core/error.hpp"

namespace gradquant::detail {

void QuietHdf5() {
  static std::once_flag once;
  std::call_once(once, [] {
    // HDF5 keeps freed internal blocks in free lists without limit by default.
    H5set_free_list_limits(1 << 20, 1 << 18, 1 << 20, 1 << 18, 1 << 20, 1 << 18);
  });
  // Debian's HDF5 is built thread-safe: each thread has its own error stack and printer.
  thread_local bool quiet = false;
  if (!quiet) {
    H5::Exception::dontPrint();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
}

void Bad(const std::string& file, const std::string& object, const std::string& problem) {
  throw IoError(file + ": " + object + " " + problem);
}

std::string Hdf5Reason(const H5::Exception& e) {
  // The innermost entry of HDF5's error stack names the cause ("truncated file: eof = ...");
  // the exception only carries the outermost call ("H5Fopen failed").
  std::string inner;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* data) -> herr_t {
        if (n == 0 && err->desc) *static_cast<std::string*>(data) = err->desc;
        return 0;
      },
      &inner);
  // A failed system call's entry spans lines ("file write failed: time = ...\n, filename = ...,
  // errno = 28, error message = 'No space left on device', ..."): keep the system's message.
  const std::string tag = "error message = '";
  const auto at = inner.find(tag);
  if (at != std::string::npos) {
    const auto start = at + tag.size(), end = inner.find('\'', start);
    inner = "write or read failed: " + inner.substr(start, end - start);
  }
  for (char& c : inner) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  const std::string outer = e.getDetailMsg().empty() ? e.getFuncName() : e.getDetailMsg();
  return inner.empty() || inner == outer ? outer : inner + "; " + outer;
}

void Guard(const std::string& file, const std::string& object, const std::function<void()>& body) {
  QuietHdf5();
  try {
    body();
  } catch (const H5::Exception& e) {
    Bad(file, object, "cannot be accessed (" + Hdf5Reason(e) + ")");
  }
}

bool HasLink(const H5::Group& parent, const std::string& name) {
  return H5Lexists(parent.getId(), name.c_str(), H5P_DEFAULT) > 0;
}

namespace {

std::vector<std::string> ReadStrings(const H5::Attribute& attr) {
  const H5::DataType type = attr.getDataType();
  if (type.getClass() != H5T_STRING) throw H5::AttributeIException("ReadStrings", "not a string");
  const H5::DataSpace space = attr.getSpace();
  const hssize_t count = space.getSimpleExtentNpoints();
  const H5::StrType strType = attr.getStrType();
  std::vector<std::string> out;
  if (strType.isVariableStr()) {
    std::vector<char*> ptrs(static_cast<std::size_t>(count), nullptr);
    attr.read(strType, ptrs.data());
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(strType.getId(), space.getId(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t size = strType.getSize();
    std::vector<char> buf(size * static_cast<std::size_t>(count));
    attr.read(strType, buf.data());
    for (hssize_t i = 0; i < count; ++i) {
      std::string s(buf.data() + static_cast<std::size_t>(i) * size, size);
      s = s.substr(0, s.find('\0'));
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

std::string ReadStringAttr(const H5::H5Object& obj, const std::string& name) {
  const auto values = ReadStrings(obj.openAttribute(name));
  if (values.size() != 1) throw H5::AttributeIException("ReadStringAttr", "not a scalar");
  return values[0];
}

std::int64_t ReadIntAttr(const H5::H5Object& obj, const std::string& name) {
  const auto values = ReadIntArrayAttr(obj, name);
  if (values.size() != 1) throw H5::AttributeIException("ReadIntAttr", "not a scalar");
  return values[0];
}

std::uint64_t ReadUintAttr(const H5::H5Object& obj, const std::string& name) {
  const H5::Attribute attr = obj.openAttribute(name);
  if (attr.getDataType().getClass() != H5T_INTEGER ||
      attr.getSpace().getSimpleExtentNpoints() != 1) {
    throw H5::AttributeIException("ReadUintAttr", "not an integer scalar");
  }
  std::uint64_t value = 0;
  attr.read(H5::PredType::NATIVE_UINT64, &value);
  return value;
}

std::vector<std::int64_t> ReadIntArrayAttr(const H5::H5Object& obj, const std::string& name) {
  const H5::Attribute attr = obj.openAttribute(name);
  if (attr.getDataType().getClass() != H5T_INTEGER) {
    throw H5::AttributeIException("ReadIntArrayAttr", "not an integer");
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(attr.getSpace().getSimpleExtentNpoints()));
  attr.read(H5::PredType::NATIVE_INT64, out.data());
  return out;
}

std::vector<std::string> ReadStringArrayAttr(const H5::H5Object& obj, const std::string& name) {
  return ReadStrings(obj.openAttribute(name));
}

std::string AttrAsText(const H5::Attribute& attr) {
  const H5T_class_t cls = attr.getDataType().getClass();
  const auto count = static_cast<std::size_t>(attr.getSpace().getSimpleExtentNpoints());
  std::ostringstream out;
  auto list = [&](const auto& values) {
    if (values.size() != 1) out << '[';
    for (std::size_t i = 0; i < values.size(); ++i) out << (i ? ", " : "") << values[i];
    if (values.size() != 1) out << ']';
  };
  if (cls == H5T_STRING) {
    list(ReadStrings(attr));
  } else if (cls == H5T_INTEGER) {
    std::vector<std::int64_t> v(count);
    attr.read(H5::PredType::NATIVE_INT64, v.data());
    list(v);
  } else if (cls == H5T_FLOAT) {
    std::vector<double> v(count);
    attr.read(H5::PredType::NATIVE_DOUBLE, v.data());
    list(v);
  } else {
    out << "(unprintable type)";
  }
  return out.str();
}

void WriteStringAttr(H5::H5Object& obj, const std::string& name, const std::string& value) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  H5::Attribute attr = obj.createAttribute(name, type, H5::DataSpace(H5S_SCALAR));
  const char* p = value.c_str();
  attr.write(type, &p);
}

void WriteIntAttr(H5::H5Object& obj, const std::string& name, std::int64_t value) {
  H5::Attribute attr =
      obj.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(H5S_SCALAR));
  attr.write(H5::PredType::NATIVE_INT64, &value);
}

void WriteUintAttr(H5::H5Object& obj, const std::string& name, std::uint64_t value) {
  H5::Attribute attr =
      obj.createAttribute(name, H5::PredType::STD_U64LE, H5::DataSpace(H5S_SCALAR));
  attr.write(H5::PredType::NATIVE_UINT64, &value);
}

void WriteIntArrayAttr(H5::H5Object& obj, const std::string& name,
                       const std::vector<std::int64_t>& values) {
  const hsize_t dims[1] = {values.size()};
  H5::Attribute attr = obj.createAttribute(name, H5::PredType::STD_I64LE, H5::DataSpace(1, dims));
  if (!values.empty()) attr.write(H5::PredType::NATIVE_INT64, values.data());
}

void WriteStringArrayAttr(H5::H5Object& obj, const std::string& name,
                          const std::vector<std::string>& values) {
  H5::StrType type(H5::PredType::C_S1, H5T_VARIABLE);
  type.setCset(H5T_CSET_UTF8);
  const hsize_t dims[1] = {values.size()};
  H5::Attribute attr = obj.createAttribute(name, type, H5::DataSpace(1, dims));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (!ptrs.empty()) attr.write(type, ptrs.data());
}

H5::DataSet CreateDataset(H5::Group& parent, const std::string& name, const H5::PredType& type,
                          const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunks,
                          const std::vector<hsize_t>& maxDims) {
  H5::DSetCreatPropList props;
  props.setChunk(static_cast<int>(chunks.size()), chunks.data());
  const H5::DataSpace space(static_cast<int>(dims.size()), dims.data(),
                            maxDims.empty() ? nullptr : maxDims.data());
  return parent.createDataSet(name, type, space, props);
}

namespace {

std::atomic<bool> g_writeFailed{false};

[[noreturn]] void WriteFailed(const char* call) {
  g_writeFailed = true;
  throw H5::DataSetIException("WriteBlockTo", std::string(call) + " failed");
}

}  // namespace

void WriteBlockTo(const H5::H5Location& loc, const std::string& name, const H5::PredType& type,
                  const void* data, const std::vector<hsize_t>& offset,
                  const std::vector<hsize_t>& count, hsize_t extendTo) {
  QuietHdf5();
  Id ds(H5Dopen2(loc.getId(), name.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.ok()) WriteFailed("H5Dopen2");
  if (extendTo != 0 && H5Dset_extent(ds.get(), &extendTo) < 0) WriteFailed("H5Dset_extent");
  Id file(H5Dget_space(ds.get()), H5Sclose);
  if (!file.ok()) WriteFailed("H5Dget_space");
  if (H5Sselect_hyperslab(file.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(),
                          nullptr) < 0) {
    WriteFailed("H5Sselect_hyperslab");
  }
  Id mem(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (!mem.ok()) WriteFailed("H5Screate_simple");
  if (H5Dwrite(ds.get(), type.getId(), mem.get(), file.get(), H5P_DEFAULT, data) < 0) {
    WriteFailed("H5Dwrite");
  }
  // Closing the dataset flushes its chunk cache, where a full disk can surface: noted, and
  // reported when the output is closed (OutputFile::Close).
  for (Id* id : {&mem, &file, &ds}) {
    if (!id->Close()) g_writeFailed = true;
  }
}

bool WriteFailedOnce() { return g_writeFailed; }
void NoteWriteFailed() { g_writeFailed = true; }

void ReadBlock(const H5::DataSet& ds, const H5::PredType& type, void* data,
               const std::vector<hsize_t>& offset, const std::vector<hsize_t>& count) {
  H5::DataSpace file = ds.getSpace();
  file.selectHyperslab(H5S_SELECT_SET, count.data(), offset.data());
  const H5::DataSpace mem(static_cast<int>(count.size()), count.data());
  ds.read(data, type, mem, file);
}

std::vector<hsize_t> Dims(const H5::DataSet& ds) {
  const H5::DataSpace space = ds.getSpace();
  std::vector<hsize_t> dims(static_cast<std::size_t>(space.getSimpleExtentNdims()));
  space.getSimpleExtentDims(dims.data());
  return dims;
}

}  // namespace gradquant::detail
