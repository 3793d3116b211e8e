#include "arrays.hpp"

#include <utility>

namespace gradquant::python {

arma::fvec View(const py::handle& object, const std::string& what, py::object* keep) {
  py::object array = py::reinterpret_borrow<py::object>(object);
  if (!py::isinstance<py::array>(array) && py::hasattr(array, "numpy")) {
    // A torch tensor: .numpy() shares a CPU tensor's memory and refuses any other device.
    try {
      array = array.attr("detach")().attr("numpy")();
    } catch (py::error_already_set& e) {
      throw py::type_error(what + ": " + e.what());
    }
  }
  if (!py::isinstance<py::array>(array)) {
    throw py::type_error(what + ": expected a float32 numpy array or torch tensor, got " +
                         std::string(py::str(py::type::of(array))));
  }
  const auto a = py::reinterpret_borrow<py::array>(array);
  if (!a.dtype().is(py::dtype::of<float>())) {
    throw py::type_error(what + ": expected float32 values, got " +
                         std::string(py::str(a.dtype())));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw py::type_error(what + ": the array is not C-contiguous (use .copy() or .contiguous())");
  }
  *keep = array;
  // strict: the view never reallocates, so it always points into the array's own memory.
  return arma::fvec(static_cast<float*>(const_cast<void*>(a.data())),
                    static_cast<arma::uword>(a.size()),
                    /*copy_aux_mem=*/false, /*strict=*/true);
}

std::vector<arma::fvec> Views(const py::sequence& objects, const std::string& what,
                              std::vector<py::object>* keep) {
  std::vector<arma::fvec> out;
  keep->resize(objects.size());
  for (std::size_t i = 0; i < objects.size(); ++i) {
    out.push_back(View(objects[i], what + " " + std::to_string(i), &(*keep)[i]));
  }
  return out;
}

py::array_t<float> ToNumpy(arma::fvec values) {
  auto* owned = new arma::fvec(std::move(values));
  py::capsule release(owned, [](void* p) { delete static_cast<arma::fvec*>(p); });
  return py::array_t<float>({static_cast<py::ssize_t>(owned->n_elem)}, {sizeof(float)},
                            owned->memptr(), release);
}

}  // namespace gradquant::python
