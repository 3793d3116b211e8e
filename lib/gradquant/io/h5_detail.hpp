#pragma once
/**
 * @file h5_detail.hpp
 * Internal to io/: HDF5 helpers shared by the readers and writers. The only header that includes
 * H5Cpp.h; nothing outside the io .cpp files may include it.
 */
#include <H5Cpp.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace gradquant::detail {

/** Silences the HDF5 error stack printer of the calling thread (once per thread; Guard and the
 * writers call it); errors become exceptions. */
void QuietHdf5();

/**
 * An HDF5 C-API id, closed exactly once and without printing: by Close(), which reports
 * whether the close succeeded, or else when it goes out of scope (a failure then ignored).
 * H5Cpp's destructors print to stderr when a close fails, and closing again an object whose
 * close failed is not safe in HDF5 1.10.
 */
class Id {
 public:
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Id() { Close(); }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  /** Closes the id now (once); false if HDF5 reported a failure. */
  bool Close() {
    if (id_ < 0) return true;
    const hid_t id = id_;
    id_ = -1;
    return close_(id) >= 0;
  }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

/** "<file>: <object> <problem>" as an IoError. */
[[noreturn]] void Bad(const std::string& file, const std::string& object,
                      const std::string& problem);

/** The cause of an HDF5 failure: the innermost error-stack entry and the failed call. */
std::string Hdf5Reason(const H5::Exception& e);

/** Runs @p body and turns any H5::Exception into an IoError naming file and object. */
void Guard(const std::string& file, const std::string& object, const std::function<void()>& body);

/** Whether @p parent has a link named @p name. */
bool HasLink(const H5::Group& parent, const std::string& name);

/** Reads a scalar string attribute (fixed or variable length). */
std::string ReadStringAttr(const H5::H5Object& obj, const std::string& name);
/** Reads a scalar integer attribute as int64. */
std::int64_t ReadIntAttr(const H5::H5Object& obj, const std::string& name);
/** Reads a scalar integer attribute as uint64. */
std::uint64_t ReadUintAttr(const H5::H5Object& obj, const std::string& name);
/** Reads a 1-D integer attribute as int64 values. */
std::vector<std::int64_t> ReadIntArrayAttr(const H5::H5Object& obj, const std::string& name);
/** Reads a 1-D string attribute (fixed or variable length). */
std::vector<std::string> ReadStringArrayAttr(const H5::H5Object& obj, const std::string& name);
/** A printable value of any scalar or 1-D attribute (for `info`). */
std::string AttrAsText(const H5::Attribute& attr);

/** Writes a scalar variable-length UTF-8 string attribute. */
void WriteStringAttr(H5::H5Object& obj, const std::string& name, const std::string& value);
/** Writes a scalar int64 attribute. */
void WriteIntAttr(H5::H5Object& obj, const std::string& name, std::int64_t value);
/** Writes a scalar uint64 attribute. */
void WriteUintAttr(H5::H5Object& obj, const std::string& name, std::uint64_t value);
/** Writes a 1-D int64 attribute. */
void WriteIntArrayAttr(H5::H5Object& obj, const std::string& name,
                       const std::vector<std::int64_t>& values);
/** Writes a 1-D variable-length string attribute. */
void WriteStringArrayAttr(H5::H5Object& obj, const std::string& name,
                          const std::vector<std::string>& values);

/** Creates a chunked dataset of @p type and dimensions @p dims. */
H5::DataSet CreateDataset(H5::Group& parent, const std::string& name, const H5::PredType& type,
                          const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunks,
                          const std::vector<hsize_t>& maxDims = {});

/**
 * Writes a contiguous block into the dataset @p name under @p loc (first extending a 1-D
 * dataset to @p extendTo when that is non-zero), through the C API with every handle closed
 * exactly once and nothing printed. @throws H5::DataSetIException on failure (a full disk).
 */
void WriteBlockTo(const H5::H5Location& loc, const std::string& name, const H5::PredType& type,
                  const void* data, const std::vector<hsize_t>& offset,
                  const std::vector<hsize_t>& count, hsize_t extendTo = 0);

/** Whether a write or a close of an output ever failed in this process (HDF5's state may then
 * be damaged: closing the library again can crash). */
bool WriteFailedOnce();
/** Records such a failure. */
void NoteWriteFailed();

/** Reads a contiguous block starting at @p offset with extent @p count. */
void ReadBlock(const H5::DataSet& ds, const H5::PredType& type, void* data,
               const std::vector<hsize_t>& offset, const std::vector<hsize_t>& count);

/** Dimensions of a dataset. */
std::vector<hsize_t> Dims(const H5::DataSet& ds);

}  // namespace gradquant::detail
