// PYBIND11_MODULE(_gradquant): the C++ library as Python sees it (docs/python.md). The
// package gradquant/__init__.py re-exports it; gradquant/torch.py builds the DDP hook on it.
#include "bindings.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/core/version.hpp"

PYBIND11_MODULE(_gradquant, m) {
  m.doc() = "gradquant: exact-bit gradient quantizers (the C++ library's bindings)";
  m.attr("__version__") = gradquant::kVersion;
  gradquant::PinBlasThreads();
  gradquant::python::BindBasics(m);
  gradquant::python::BindQuantizer(m);
  gradquant::python::BindChain(m);
  gradquant::python::BindDump(m);
}
