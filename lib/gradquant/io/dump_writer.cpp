#include "gradquant/io/dump_writer.hpp"

#include <algorithm>

#include "gradquant/core/error.hpp"
#include "gradquant/io/output_file_impl.hpp"

namespace gradquant {

using detail::Guard;

DumpWriter::DumpWriter(OutputFile& file, const std::vector<std::int64_t>& steps,
                       std::size_t workers, const std::vector<LayerInfo>& layers,
                       const RootAttributes& attrs, bool withAggregate)
    : file_(file), layers_(layers), withAggregate_(withAggregate) {
  H5::H5File& h5 = file.impl().File();
  Guard(file.Path(), "dump layout", [&] {
    detail::WriteStringAttr(h5, "gradquant_format", "gradients");
    detail::WriteIntAttr(h5, "gradquant_version", 1);
    detail::WriteIntAttr(h5, "workers", static_cast<std::int64_t>(workers));
  });
  AddAttributes(attrs);
  Guard(file.Path(), "dump layout", [&] {
    const hsize_t s = steps.size();
    H5::DataSet stepsDs = h5.createDataSet("steps", H5::PredType::STD_I64LE, H5::DataSpace(1, &s));
    stepsDs.write(steps.data(), H5::PredType::NATIVE_INT64);
    H5::Group grads = h5.createGroup("gradients");
    std::vector<std::string> order;
    for (const auto& l : layers) order.push_back(l.name);
    detail::WriteStringArrayAttr(grads, "order", order);
    H5::Group agg;
    if (withAggregate) agg = h5.createGroup("aggregate");
    for (const auto& l : layers) {
      const hsize_t chunk = std::min<hsize_t>(l.n, 262144);
      H5::DataSet ds = detail::CreateDataset(grads, l.name, H5::PredType::IEEE_F32LE,
                                             {s, workers, l.n}, {1, 1, chunk});
      std::vector<std::int64_t> shape(l.shape.begin(), l.shape.end());
      detail::WriteIntArrayAttr(ds, "shape", shape);
      if (withAggregate) {
        detail::CreateDataset(agg, l.name, H5::PredType::IEEE_F32LE, {s, l.n}, {1, chunk});
      }
    }
  });
}

void DumpWriter::AddAttributes(const RootAttributes& attrs) {
  H5::H5File& h5 = file_.impl().File();
  Guard(file_.Path(), "/ attributes", [&] {
    for (const auto& [k, v] : attrs.strings) detail::WriteStringAttr(h5, k, v);
    for (const auto& [k, v] : attrs.integers) detail::WriteIntAttr(h5, k, v);
    for (const auto& [k, v] : attrs.unsignedIntegers) detail::WriteUintAttr(h5, k, v);
  });
}

void DumpWriter::WriteSlab(std::size_t layer, std::size_t record, std::size_t worker,
                           const float* values) {
  const LayerInfo& l = layers_.at(layer);
  Guard(file_.Path(), "/gradients/" + l.name, [&] {
    detail::WriteBlockTo(file_.impl().File(), "gradients/" + l.name, H5::PredType::NATIVE_FLOAT,
                         values, {record, worker, 0}, {1, 1, l.n});
  });
}

void DumpWriter::WriteAggregate(std::size_t layer, std::size_t record, const float* values) {
  const LayerInfo& l = layers_.at(layer);
  if (!withAggregate_) throw std::invalid_argument("DumpWriter built without /aggregate");
  Guard(file_.Path(), "/aggregate/" + l.name, [&] {
    detail::WriteBlockTo(file_.impl().File(), "aggregate/" + l.name, H5::PredType::NATIVE_FLOAT,
                         values, {record, 0}, {1, l.n});
  });
}

}  // namespace gradquant
