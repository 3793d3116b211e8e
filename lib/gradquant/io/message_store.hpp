#pragma once
/**
 * @file message_store.hpp
 * The messages of a `compress` run, stored beside the dump layout in the same file:
 *
 * ```
 * /                         quantizer (canonical spec), seed (uint64), message_format_version,
 *                           error_feedback (classic or ef21; absent without error feedback)
 * /bits/<name>              uint64 [S, W]   exact bits of each worker's message
 * /downlink_bits/<name>     uint64 [S]      bits of the server's reply at each record
 * /messages/<name>/bytes    uint8 [total]   every message's bytes, record-major then worker
 * /messages/<name>/offset   uint64 [S, W]   first byte of each message in bytes
 * /messages/<name>/checksum uint64 [S, W]   StoredChecksum: FNV-1a 64 of the bytes, the bit
 *                                           count and the message's identity (see below)
 * /messages/<name>          attributes layer_index (position in the source model order),
 *                           shape (int64[]); the group /messages has attribute order
 * ```
 * A message's byte length is ceil(bits / 8). Decoding needs only these objects and /steps.
 *
 * The checksum also covers everything the decoder keys on (spec, seed, layer name and index,
 * N, the parameter's shape, W, step, record, worker), so a message that is cut, extended,
 * bit-flipped, swapped with another layer's, record's or worker's, or whose context attributes
 * were edited (a transposed shape included) is rejected with FormatError before it reaches a
 * decoder (message_format_version 3). A run with error feedback binds its mode too, as
 * `<spec> error_feedback=<mode>` in place of the spec (BoundSpec).
 */
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradquant/coding/message.hpp"
#include "gradquant/core/layer_info.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant {

/** What a stored checksum binds a message to, beside its bytes and bit count. */
struct MessageIdentity {
  std::string spec;
  std::uint64_t seed = 0;
  std::string layer;
  std::uint32_t layerIndex = 0;
  std::uint64_t n = 0;
  std::vector<std::uint64_t> shape;  ///< the parameter's shape (PowerSGD and GradiVeQ use it)
  std::uint64_t workers = 0;         ///< W
  std::int64_t step = 0;
  std::uint64_t record = 0;
  std::uint64_t worker = 0;
};

/** The spec text a checksum binds: @p spec, plus " error_feedback=<mode>" when @p feedback is set.
 */
std::string BoundSpec(const std::string& spec, const std::string& feedback);

/** FNV-1a 64 of MessageHash(@p message) continued over @p id. */
std::uint64_t StoredChecksum(const Message& message, const MessageIdentity& id);

/** Adds the message groups to an output file; each (layer, record) is written once, in order. */
class MessageWriter {
 public:
  /**
   * @param steps the step of each stored record.
   * @param feedback the error-feedback mode, empty for none.
   * @throws IoError
   */
  MessageWriter(OutputFile& file, const std::vector<std::int64_t>& steps, std::size_t workers,
                const std::vector<LayerInfo>& layers, const std::string& spec, std::uint64_t seed,
                const std::string& feedback = "");
  ~MessageWriter();

  /**
   * Appends the W messages of layer position @p layer at record @p record and the downlink bits.
   * Records of one layer must come in increasing order. @throws IoError
   */
  void Write(std::size_t layer, std::size_t record, const std::vector<Message>& messages,
             std::uint64_t downlinkBits);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/** Reads the messages of a compressed file. */
class MessageReader {
 public:
  /** Opens and validates @p path. @throws IoError if it is not a gradquant compressed file. */
  explicit MessageReader(const std::string& path);
  ~MessageReader();

  const std::string& Spec() const;
  std::uint64_t Seed() const;
  /** The error-feedback mode the messages were sent under, empty for none. */
  const std::string& Feedback() const;
  const std::vector<std::int64_t>& Steps() const;
  std::size_t Workers() const;
  /** The stored layers; LayerInfo::index is the position in the source model order. */
  const std::vector<LayerInfo>& Layers() const;

  /**
   * The W messages of layer position @p layer at record @p record.
   * @throws FormatError if a message's checksum or extent is wrong; IoError on read failure.
   */
  std::vector<Message> Read(std::size_t layer, std::size_t record) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gradquant
