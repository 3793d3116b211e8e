#include "gradquant/io/self_contained.hpp"

#include "gradquant/core/error.hpp"

namespace gradquant::detail {
namespace {

struct Walk {
  std::string object;   // the first offending object, "/a/b"
  std::string problem;  // what it is
};

// The problem with a hard-linked object, or "" when it keeps its values in the file.
std::string StorageProblem(hid_t object) {
  if (H5Iget_type(object) != H5I_DATASET) return "";
  const Id dcpl(H5Dget_create_plist(object), H5Pclose);
  if (!dcpl.ok()) return "has a creation property list HDF5 cannot read";
  if (H5Pget_layout(dcpl.get()) == H5D_VIRTUAL) {
    return "is a virtual dataset (its values live in other datasets or files)";
  }
  if (H5Pget_external_count(dcpl.get()) != 0) {
    return "keeps its values in external files (H5Pset_external)";
  }
  return "";
}

herr_t Visit(hid_t group, const char* name, const H5L_info_t* info, void* data) {
  auto* walk = static_cast<Walk*>(data);
  const std::string object = std::string("/") + name;
  if (info->type == H5L_TYPE_SOFT) {
    *walk = {object, "is a soft link"};
    return 1;
  }
  if (info->type != H5L_TYPE_HARD) {
    *walk = {object, info->type == H5L_TYPE_EXTERNAL ? "is an external link to another file"
                                                     : "is a user-defined link"};
    return 1;
  }
  const Id id(H5Oopen(group, name, H5P_DEFAULT), H5Oclose);
  if (!id.ok()) {
    *walk = {object, "cannot be opened"};
    return 1;
  }
  std::string problem = StorageProblem(id.get());
  if (problem.empty()) return 0;
  *walk = {object, std::move(problem)};
  return 1;
}

}  // namespace

void RequireSelfContained(const std::string& path, const H5::H5File& file) {
  Walk walk;
  const herr_t status = H5Lvisit(file.getId(), H5_INDEX_NAME, H5_ITER_NATIVE, Visit, &walk);
  if (status < 0 && walk.object.empty()) Bad(path, "/", "cannot be walked (damaged link table)");
  if (!walk.object.empty()) {
    Bad(path, walk.object,
        walk.problem + "; gradquant reads only what is stored in the file itself");
  }
}

}  // namespace gradquant::detail
