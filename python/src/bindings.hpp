#pragma once
// The parts of the _gradquant extension module, one per file (docs/python.md lists the API).
#include <pybind11/pybind11.h>

#include <memory>

#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant::python {

namespace py = pybind11;

/** A quantizer as Python holds it: shared by the Quantizer object and the chains built on it. */
using QuantizerPtr = std::shared_ptr<Quantizer>;

void BindBasics(py::module_& m);     // exceptions, registry, Layer, Message (basics.cpp)
void BindQuantizer(py::module_& m);  // Quantizer, State, Decoded (quantizer.cpp)
void BindChain(py::module_& m);      // Chain, Round (chain.cpp)
void BindDump(py::module_& m);       // Dump, DumpWriter (dump.cpp)

/** The Python dict of a GroupResult's fields (workers, aggregate, downlink_bits, stats). */
py::object DecodedObject(GroupResult decoded);

}  // namespace gradquant::python
