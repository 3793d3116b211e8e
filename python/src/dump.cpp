// Dump (read) and DumpWriter (write, appearing only on commit): the dump format of
// docs/format.md from Python, so a training run can record the gradients that `gradquant
// analyze` then reads.
#include "gradquant/io/dump.hpp"

#include <pybind11/stl.h>

#include <memory>

#include "arrays.hpp"
#include "bindings.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/io/dump_writer.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant::python {
namespace {

struct Writer {
  std::unique_ptr<OutputFile> file;
  std::unique_ptr<DumpWriter> writer;
  std::vector<LayerInfo> layers;
  std::size_t records = 0, workers = 0;

  void Check(std::size_t layer, std::size_t record, std::size_t worker, const arma::fvec& v) {
    if (!writer) throw IoError("DumpWriter: already committed");
    if (layer >= layers.size() || record >= records || worker >= workers) {
      throw SpecError("DumpWriter: (layer " + std::to_string(layer) + ", record " +
                      std::to_string(record) + ", worker " + std::to_string(worker) +
                      ") is outside the dump");
    }
    if (v.n_elem != layers[layer].n) {
      throw SpecError("DumpWriter: " + layers[layer].name + " has " +
                      std::to_string(layers[layer].n) + " values, got " + std::to_string(v.n_elem));
    }
  }
};

RootAttributes AttributesOf(const py::dict& attrs) {
  RootAttributes out;
  for (const auto& [key, value] : attrs) {
    const std::string name = py::str(key);
    if (py::isinstance<py::bool_>(value) || !py::isinstance<py::int_>(value)) {
      out.strings[name] = py::str(value);
    } else {
      out.integers[name] = value.cast<std::int64_t>();
    }
  }
  return out;
}

}  // namespace

void BindDump(py::module_& m) {
  py::class_<Dump>(m, "Dump", "A gradient dump (one file or several read as one), validated.")
      .def(py::init([](const py::object& paths, const std::string& nonfinite) {
             std::vector<std::string> list;
             if (py::isinstance<py::str>(paths)) {
               list.push_back(paths.cast<std::string>());
             } else {
               list = paths.cast<std::vector<std::string>>();
             }
             if (nonfinite != "reject" && nonfinite != "zero") {
               throw SpecError("nonfinite '" + nonfinite + "': expected reject or zero");
             }
             return Dump::Open(
                 list, nonfinite == "zero" ? NonfinitePolicy::kZero : NonfinitePolicy::kReject);
           }),
           py::arg("paths"), py::arg("nonfinite") = "reject")
      .def_property_readonly("steps", &Dump::Steps)
      .def_property_readonly("workers", &Dump::Workers)
      .def_property_readonly("layers", &Dump::Layers)
      .def(
          "read",
          [](const Dump& d, std::size_t layer, std::size_t record, std::size_t worker) {
            if (layer >= d.Layers().size() || record >= d.Records() || worker >= d.Workers()) {
              throw SpecError("Dump.read: (layer " + std::to_string(layer) + ", record " +
                              std::to_string(record) + ", worker " + std::to_string(worker) +
                              ") is outside the dump");
            }
            arma::fvec slab;
            {
              py::gil_scoped_release release;
              slab = d.ReadSlab(layer, record, worker);
            }
            return ToNumpy(std::move(slab));
          },
          py::arg("layer"), py::arg("record"), py::arg("worker"),
          "One worker's slab as float32 (layer and record are positions).");

  py::class_<Writer>(m, "DumpWriter",
                     "Writes a dump; the file appears under its name only on commit().")
      .def(py::init([](const std::string& path, const std::vector<std::int64_t>& steps,
                       std::size_t workers, const std::vector<LayerInfo>& layers,
                       const py::dict& attributes) {
             auto w = std::make_unique<Writer>();
             w->file = std::make_unique<OutputFile>(path);
             w->writer = std::make_unique<DumpWriter>(*w->file, steps, workers, layers,
                                                      AttributesOf(attributes), false);
             w->layers = layers;
             w->records = steps.size();
             w->workers = workers;
             return w;
           }),
           py::arg("path"), py::arg("steps"), py::arg("workers"), py::arg("layers"),
           py::arg("attributes") = py::dict())
      .def(
          "write",
          [](Writer& w, std::size_t layer, std::size_t record, std::size_t worker,
             const py::object& values) {
            py::object keep;
            const arma::fvec v = View(values, "DumpWriter.write", &keep);
            w.Check(layer, record, worker, v);
            w.writer->WriteSlab(layer, record, worker, v.memptr());
          },
          py::arg("layer"), py::arg("record"), py::arg("worker"), py::arg("values"))
      .def(
          "commit",
          [](Writer& w) {
            if (!w.writer) throw IoError("DumpWriter: already committed");
            w.writer.reset();
            w.file->Close();
            w.file->Commit();
          },
          "Closes the file and renames it into place; before this, nothing is at the path.");
}

}  // namespace gradquant::python
