#include "gradquant/io/message_store.hpp"

#include <algorithm>

#include "gradquant/core/error.hpp"
#include "gradquant/core/version.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/output_file_impl.hpp"

namespace gradquant {

using detail::Bad;
using detail::Guard;

std::string BoundSpec(const std::string& spec, const std::string& feedback) {
  return feedback.empty() ? spec : spec + " error_feedback=" + feedback;
}

std::uint64_t StoredChecksum(const Message& message, const MessageIdentity& id) {
  std::uint64_t h = MessageHash(message);
  auto mix = [&h](std::uint64_t value) {
    for (int i = 0; i < 8; ++i) {
      h ^= static_cast<std::uint8_t>(value >> (8 * i));
      h *= 0x100000001b3ULL;
    }
  };
  auto mixText = [&](const std::string& text) {
    mix(text.size());
    for (unsigned char c : text) mix(c);
  };
  mixText(id.spec);
  mix(id.seed);
  mixText(id.layer);
  mix(id.layerIndex);
  mix(id.n);
  mix(id.shape.size());
  for (std::uint64_t d : id.shape) mix(d);
  mix(id.workers);
  mix(static_cast<std::uint64_t>(id.step));
  mix(id.record);
  mix(id.worker);
  return h;
}

namespace {

MessageIdentity IdentityOf(const std::string& spec, std::uint64_t seed, const LayerInfo& l,
                           std::size_t workers, std::int64_t step, std::size_t record,
                           std::size_t worker) {
  return {spec, seed, l.name, l.index, l.n, l.shape, workers, step, record, worker};
}

}  // namespace

struct MessageWriter::Impl {
  OutputFile* file;
  std::size_t workers;
  std::vector<LayerInfo> layers;
  std::vector<std::int64_t> steps;
  std::string spec;  // BoundSpec
  std::uint64_t seed;
  std::vector<hsize_t> sizes;  // bytes written so far per layer
};

MessageWriter::MessageWriter(OutputFile& file, const std::vector<std::int64_t>& steps,
                             std::size_t workers, const std::vector<LayerInfo>& layers,
                             const std::string& spec, std::uint64_t seed,
                             const std::string& feedback)
    : impl_(std::make_unique<Impl>(
          Impl{&file, workers, layers, steps, BoundSpec(spec, feedback), seed, {}})) {
  impl_->sizes.assign(layers.size(), 0);
  H5::H5File& h5 = file.impl().File();
  Guard(file.Path(), "message groups", [&] {
    detail::WriteStringAttr(h5, "quantizer", spec);
    detail::WriteUintAttr(h5, "seed", seed);
    detail::WriteIntAttr(h5, "message_format_version", kMessageFormatVersion);
    if (!feedback.empty()) detail::WriteStringAttr(h5, "error_feedback", feedback);
    H5::Group bits = h5.createGroup("bits");
    H5::Group down = h5.createGroup("downlink_bits");
    H5::Group msgs = h5.createGroup("messages");
    std::vector<std::string> order;
    for (const auto& l : layers) order.push_back(l.name);
    detail::WriteStringArrayAttr(msgs, "order", order);
    const hsize_t s = steps.size(), w = workers;
    for (const auto& l : layers) {
      detail::CreateDataset(bits, l.name, H5::PredType::STD_U64LE, {s, w}, {1, w});
      detail::CreateDataset(down, l.name, H5::PredType::STD_U64LE, {s}, {1});
      H5::Group g = msgs.createGroup(l.name);
      detail::WriteIntAttr(g, "layer_index", l.index);
      detail::WriteIntArrayAttr(g, "shape",
                                std::vector<std::int64_t>(l.shape.begin(), l.shape.end()));
      detail::CreateDataset(g, "bytes", H5::PredType::STD_U8LE, {0}, {65536}, {H5S_UNLIMITED});
      detail::CreateDataset(g, "offset", H5::PredType::STD_U64LE, {s, w}, {1, w});
      detail::CreateDataset(g, "checksum", H5::PredType::STD_U64LE, {s, w}, {1, w});
    }
  });
}

MessageWriter::~MessageWriter() = default;

void MessageWriter::Write(std::size_t layer, std::size_t record,
                          const std::vector<Message>& messages, std::uint64_t downlinkBits) {
  const LayerInfo& l = impl_->layers.at(layer);
  const std::size_t w = impl_->workers;
  if (messages.size() != w) throw std::invalid_argument("MessageWriter: wrong message count");
  std::vector<std::uint64_t> bits(w), offset(w), checksum(w);
  std::vector<std::uint8_t> joined;
  for (std::size_t i = 0; i < w; ++i) {
    bits[i] = messages[i].bits;
    offset[i] = impl_->sizes[layer] + joined.size();
    checksum[i] =
        StoredChecksum(messages[i], IdentityOf(impl_->spec, impl_->seed, l, impl_->workers,
                                               impl_->steps.at(record), record, i));
    joined.insert(joined.end(), messages[i].bytes.begin(), messages[i].bytes.end());
  }
  H5::H5File& h5 = impl_->file->impl().File();
  Guard(impl_->file->Path(), "/messages/" + l.name, [&] {
    const std::string base = "messages/" + l.name + "/";
    const hsize_t start = impl_->sizes[layer], total = start + joined.size();
    if (!joined.empty()) {
      detail::WriteBlockTo(h5, base + "bytes", H5::PredType::NATIVE_UINT8, joined.data(), {start},
                           {joined.size()}, total);
    }
    impl_->sizes[layer] = total;
    detail::WriteBlockTo(h5, base + "offset", H5::PredType::NATIVE_UINT64, offset.data(),
                         {record, 0}, {1, w});
    detail::WriteBlockTo(h5, base + "checksum", H5::PredType::NATIVE_UINT64, checksum.data(),
                         {record, 0}, {1, w});
    detail::WriteBlockTo(h5, "bits/" + l.name, H5::PredType::NATIVE_UINT64, bits.data(),
                         {record, 0}, {1, w});
    detail::WriteBlockTo(h5, "downlink_bits/" + l.name, H5::PredType::NATIVE_UINT64, &downlinkBits,
                         {record}, {1});
  });
}

struct MessageReader::Impl {
  std::string path;
  H5::H5File h5;
  std::string spec;
  std::string feedback;
  std::uint64_t seed = 0;
  std::vector<std::int64_t> steps;
  std::size_t workers = 0;
  std::vector<LayerInfo> layers;
};

MessageReader::MessageReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  // The dump layout is validated by the dump reader; the message groups here.
  const Dump dump = Dump::Open({path});
  impl_->path = path;
  impl_->steps = dump.Steps();
  impl_->workers = dump.Workers();
  Guard(path, "file", [&] { impl_->h5.openFile(path, H5F_ACC_RDONLY); });
  H5::H5File& h5 = impl_->h5;
  for (const char* attr : {"quantizer", "seed", "message_format_version"}) {
    if (!h5.attrExists(attr)) {
      Bad(path, "/",
          std::string("has no attribute '") + attr + "': not written by gradquant compress");
    }
  }
  Guard(path, "/ attributes", [&] {
    impl_->spec = detail::ReadStringAttr(h5, "quantizer");
    impl_->seed = detail::ReadUintAttr(h5, "seed");
    if (h5.attrExists("error_feedback")) {
      impl_->feedback = detail::ReadStringAttr(h5, "error_feedback");
    }
    const auto version = detail::ReadIntAttr(h5, "message_format_version");
    if (version != kMessageFormatVersion) {
      Bad(path, "/",
          "attribute message_format_version is " + std::to_string(version) +
              ", this gradquant reads " + std::to_string(kMessageFormatVersion));
    }
  });
  for (const char* group : {"messages", "bits"}) {
    if (!detail::HasLink(h5, group)) Bad(path, std::string("/") + group, "is missing");
  }
  for (const LayerInfo& source : dump.Layers()) {
    const std::string object = "/messages/" + source.name;
    if (!detail::HasLink(h5.openGroup("messages"), source.name)) Bad(path, object, "is missing");
    LayerInfo l = source;
    Guard(path, object, [&] {
      const H5::Group g = h5.openGroup("messages/" + source.name);
      l.index = static_cast<std::uint32_t>(detail::ReadIntAttr(g, "layer_index"));
      for (const char* member : {"bytes", "offset", "checksum"}) {
        if (!detail::HasLink(g, member)) Bad(path, object + "/" + member, "is missing");
      }
      const auto dims = detail::Dims(g.openDataSet("offset"));
      if (dims.size() != 2 || dims[0] != impl_->steps.size() || dims[1] != impl_->workers) {
        Bad(path, object + "/offset", "does not have extent [S, W]");
      }
    });
    impl_->layers.push_back(l);
  }
}

MessageReader::~MessageReader() = default;

const std::string& MessageReader::Spec() const { return impl_->spec; }
std::uint64_t MessageReader::Seed() const { return impl_->seed; }
const std::string& MessageReader::Feedback() const { return impl_->feedback; }
const std::vector<std::int64_t>& MessageReader::Steps() const { return impl_->steps; }
std::size_t MessageReader::Workers() const { return impl_->workers; }
const std::vector<LayerInfo>& MessageReader::Layers() const { return impl_->layers; }

std::vector<Message> MessageReader::Read(std::size_t layer, std::size_t record) const {
  const LayerInfo& l = impl_->layers.at(layer);
  const std::size_t w = impl_->workers;
  std::vector<std::uint64_t> bits(w), offset(w), checksum(w);
  std::vector<Message> out(w);
  const std::string object = "/messages/" + l.name;
  Guard(impl_->path, object, [&] {
    const H5::Group g = impl_->h5.openGroup("messages/" + l.name);
    detail::ReadBlock(impl_->h5.openDataSet("bits/" + l.name), H5::PredType::NATIVE_UINT64,
                      bits.data(), {record, 0}, {1, w});
    detail::ReadBlock(g.openDataSet("offset"), H5::PredType::NATIVE_UINT64, offset.data(),
                      {record, 0}, {1, w});
    detail::ReadBlock(g.openDataSet("checksum"), H5::PredType::NATIVE_UINT64, checksum.data(),
                      {record, 0}, {1, w});
    const H5::DataSet bytes = g.openDataSet("bytes");
    const hsize_t total = detail::Dims(bytes).at(0);
    for (std::size_t i = 0; i < w; ++i) {
      const std::string name =
          l.name + " record " + std::to_string(record) + " worker " + std::to_string(i);
      const std::uint64_t length = bits[i] / 8 + (bits[i] % 8 != 0);  // no overflow
      if (offset[i] > total || length > total - offset[i]) {
        throw FormatError("message " + name + ": extent [" + std::to_string(offset[i]) + ", +" +
                          std::to_string(length) + ") lies outside the " + std::to_string(total) +
                          " stored bytes");
      }
      out[i].bits = bits[i];
      out[i].bytes.resize(length);
      if (length) {
        detail::ReadBlock(bytes, H5::PredType::NATIVE_UINT8, out[i].bytes.data(), {offset[i]},
                          {length});
      }
      const MessageIdentity id = IdentityOf(BoundSpec(impl_->spec, impl_->feedback), impl_->seed, l,
                                            w, impl_->steps[record], record, i);
      if (StoredChecksum(out[i], id) != checksum[i]) {
        throw FormatError("message " + name +
                          ": checksum mismatch (corrupt, or moved from "
                          "another layer, record or worker)");
      }
    }
  });
  return out;
}

}  // namespace gradquant
