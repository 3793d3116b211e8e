#pragma once
// numpy (and torch CPU tensor) arrays to and from Armadillo vectors for the bindings: inputs
// are viewed without a copy, and outputs hand their memory to numpy without a copy.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <armadillo>
#include <string>
#include <vector>

namespace gradquant::python {

namespace py = pybind11;

/**
 * A C-contiguous float32 array as an fvec over its own memory (no copy); a torch tensor goes
 * through .detach().numpy(), which shares a CPU tensor's memory. The array must outlive the
 * view. @throws TypeError (py::type_error) for another dtype, a non-contiguous array, or a
 * tensor that is not on the CPU, naming @p what.
 */
arma::fvec View(const py::handle& object, const std::string& what, py::object* keep);

/** Views of a sequence of arrays (@p keep holds what the views point into). */
std::vector<arma::fvec> Views(const py::sequence& objects, const std::string& what,
                              std::vector<py::object>* keep);

/** A 1-D float32 numpy array that owns @p values' memory (moved, not copied). */
py::array_t<float> ToNumpy(arma::fvec values);

}  // namespace gradquant::python
