#pragma once
/**
 * @file dump_writer.hpp
 * Writes the dump layout (docs/format.md) into an OutputFile: root attributes, /steps,
 * /gradients/<name> float32 [S, W, N] (chunks (1, 1, min(N, 262144)), attribute shape, group
 * attribute order) and, optionally, /aggregate/<name> float32 [S, N], the server's estimate of
 * the workers' mean at each record.
 */
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"
#include "gradquant/io/output_file.hpp"

namespace gradquant {

/** Root attributes to add: name -> value, strings or integers. */
struct RootAttributes {
  std::map<std::string, std::string> strings;
  std::map<std::string, std::int64_t> integers;
  std::map<std::string, std::uint64_t> unsignedIntegers;
};

/** Adds a dump's datasets to an output file; slabs may be written in any order. */
class DumpWriter {
 public:
  /**
   * @param layers the parameters to write, in model order (positions index WriteSlab).
   * @param withAggregate also create /aggregate/<name>.
   * @throws IoError
   */
  DumpWriter(OutputFile& file, const std::vector<std::int64_t>& steps, std::size_t workers,
             const std::vector<LayerInfo>& layers, const RootAttributes& attrs, bool withAggregate);

  /** Writes one worker's slab (n floats). @throws IoError */
  void WriteSlab(std::size_t layer, std::size_t record, std::size_t worker, const float* values);

  /** Writes the server aggregate of one (record, layer) (n floats). @throws IoError */
  void WriteAggregate(std::size_t layer, std::size_t record, const float* values);

  /** Adds root attributes known only at the end (counts); names must be new. @throws IoError */
  void AddAttributes(const RootAttributes& attrs);

 private:
  OutputFile& file_;
  std::vector<LayerInfo> layers_;
  bool withAggregate_;
};

}  // namespace gradquant
