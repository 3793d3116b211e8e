#pragma once
/**
 * @file message_store.hpp
 * The messages of a `compress` run, stored beside the dump layout in the same file:
 *
 * ```
 * /                         quantizer (canonical spec), seed (uint64), message_format_version
 * /bits/<name>              uint64 [S, W]   exact bits of each worker's message
 * /downlink_bits/<name>     uint64 [S]      bits of the server's reply at each record
 * /messages/<name>/bytes    uint8 [total]   every message's bytes, record-major then worker
 * /messages/<name>/offset   uint64 [S, W]   first byte of each message in bytes
 * /messages/<name>/checksum uint64 [S, W]   FNV-1a 64 of the bytes and the bit count
 * /messages/<name>          attributes layer_index (position in the source model order),
 *                           shape (int64[]); the group /messages has attribute order
 * ```
 * A message's byte length is ceil(bits / 8). Decoding needs only these objects and /steps.
 */
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gradquant/coding/message.hpp"
#include "gradquant/core/layer_info.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant {

/** Adds the message groups to an output file; each (layer, record) is written once, in order. */
class MessageWriter {
 public:
  /** @throws IoError */
  MessageWriter(OutputFile& file, std::size_t records, std::size_t workers,
                const std::vector<LayerInfo>& layers, const std::string& spec, std::uint64_t seed);
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
