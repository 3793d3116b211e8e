// Exceptions, the registry, Layer and Message.
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::python {

void BindBasics(py::module_& m) {
  // The library's error classes, with its messages; translators are tried newest first, so the
  // base is registered before the classes derived from it.
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<SpecError> specError(m, "SpecError", error.ptr());
  static py::exception<IoError> ioError(m, "IoError", error.ptr());
  static py::exception<RangeError> rangeError(m, "RangeError", ioError.ptr());
  static py::exception<NonfiniteError> nonfiniteError(m, "NonfiniteError", ioError.ptr());
  static py::exception<FormatError> formatError(m, "FormatError", error.ptr());
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const SpecError& e) {
      specError(e.what());
    } catch (const RangeError& e) {
      rangeError(e.what());
    } catch (const NonfiniteError& e) {
      nonfiniteError(e.what());
    } catch (const IoError& e) {
      ioError(e.what());
    } catch (const FormatError& e) {
      formatError(e.what());
    } catch (const Error& e) {
      error(e.what());
    }
  });

  m.def(
      "quantizers",
      [] {
        py::list out;
        const Registry& registry = BuiltinRegistry();
        for (const std::string& name : registry.Names()) {
          py::list params;
          for (const ParamDoc& d : registry.Docs(name)) {
            params.append(py::dict(py::arg("key") = d.key, py::arg("default") = d.defaultValue,
                                   py::arg("range") = d.range, py::arg("meaning") = d.meaning));
          }
          out.append(py::dict(py::arg("name") = name,
                              py::arg("description") = registry.Get(name).description,
                              py::arg("params") = params));
        }
        return out;
      },
      "Every registered quantizer as a dict: name, description, params (key, default, range, "
      "meaning), as `gradquant list` prints them.");

  py::class_<LayerInfo>(m, "Layer", "A parameter tensor: name, shape, and index in model order.")
      .def(py::init([](std::string name, std::vector<std::uint64_t> shape, std::uint32_t index) {
             LayerInfo l;
             l.name = std::move(name);
             l.shape = std::move(shape);
             l.n = 1;
             for (std::uint64_t d : l.shape) l.n *= d;
             l.index = index;
             return l;
           }),
           py::arg("name"), py::arg("shape"), py::arg("index") = 0)
      .def_readonly("name", &LayerInfo::name)
      .def_readonly("shape", &LayerInfo::shape)
      .def_readonly("n", &LayerInfo::n)
      .def_readonly("index", &LayerInfo::index)
      .def("__repr__", [](const LayerInfo& l) {
        return "Layer(" + l.name + ", n=" + std::to_string(l.n) +
               ", index=" + std::to_string(l.index) + ")";
      });

  py::class_<Message>(m, "Message", "One worker's message: its bytes and exact bit count.")
      .def(py::init([](py::bytes data, std::uint64_t bits) {
             const std::string s = data;
             if (bits > 8 * static_cast<std::uint64_t>(s.size()) || bits + 7 < 8 * s.size()) {
               throw SpecError("Message: " + std::to_string(bits) + " bits do not fill " +
                               std::to_string(s.size()) + " bytes");
             }
             Message msg;
             msg.bytes.assign(s.begin(), s.end());
             msg.bits = bits;
             return msg;
           }),
           py::arg("data"), py::arg("bits"))
      .def_property_readonly("data",
                             [](const Message& msg) {
                               return py::bytes(reinterpret_cast<const char*>(msg.bytes.data()),
                                                msg.bytes.size());
                             })
      .def_readonly("bits", &Message::bits)
      .def("__eq__", [](const Message& a, const Message& b) {
        return a.bits == b.bits && a.bytes == b.bytes;
      });
}

}  // namespace gradquant::python
