#pragma once
// Test-only HDF5 forging: writes dumps that follow docs/format.md or break it in one chosen way,
// and edits compressed files in place. The library's own writers cannot produce malformed files, so
// the tests reach for H5Cpp here (and only here, plus h5_forge.cpp).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gradquant::test {

/** The element type a forged gradient dataset is stored as. */
enum class ForgeType { kFloat32, kFloat64, kFloat16, kInt32 };

/** One /gradients/<name> dataset to forge. */
struct ForgeLayer {
  std::string name;
  std::vector<std::uint64_t> dims;                 ///< dataset extent, normally [S, W, N]
  std::optional<std::vector<std::int64_t>> shape;  ///< the 'shape' attribute (nullopt: none)
  ForgeType type = ForgeType::kFloat32;
  std::vector<std::uint64_t> chunks;  ///< empty: contiguous layout
  bool deflateShuffle = false;        ///< shuffle + deflate(4) + fletcher32 (needs chunks)
};

/** A whole file to forge; the defaults give a valid dump. */
struct ForgeSpec {
  std::optional<std::string> format = std::string("gradients");  ///< gradquant_format
  std::optional<std::int64_t> version = 1;                       ///< gradquant_version
  std::optional<std::int64_t> workersAttr;                       ///< root attribute 'workers'
  std::optional<std::vector<std::int64_t>> steps = std::vector<std::int64_t>{0, 10};
  bool withGradients = true;
  std::uint64_t userblock = 0;  ///< bytes before HDF5's superblock (0, or a power of 2 >= 512)
  std::optional<std::vector<std::string>> order;  ///< /gradients attribute 'order' (nullopt: none)
  std::vector<ForgeLayer> layers;
  /** Value of layer l at record s, worker w, index i (written through float64). */
  std::function<double(std::size_t l, std::size_t s, std::size_t w, std::size_t i)> value;
};

/** A value exactly representable in float16, float32 and float64 that varies with position. */
double ForgeValue(std::size_t l, std::size_t s, std::size_t w, std::size_t i);

/** A valid spec: S records (steps 0, 10, ...), W workers, layers "a" [2x3] and "b.bias" [4]. */
ForgeSpec ValidSpec(std::size_t records = 2, std::size_t workers = 2);

/** Writes @p spec to @p path (truncating). */
void Forge(const std::string& path, const ForgeSpec& spec);

/** Where a chunk of a chunked dataset is stored: file offset and size in bytes. */
struct StoredChunk {
  std::uint64_t offset = 0, bytes = 0;
};

/** The stored chunk of @p dataset whose first element is at @p origin. */
StoredChunk LocateChunk(const std::string& path, const std::string& dataset,
                        const std::vector<std::uint64_t>& origin);

/** Overwrites one float of a float32 gradient dataset of an existing file. */
void PokeGradient(const std::string& path, const std::string& layer, std::uint64_t record,
                  std::uint64_t worker, std::uint64_t index, float value);

/** Reads a whole float dataset (any rank) as float32. */
std::vector<float> ReadFloats(const std::string& path, const std::string& dataset);

/** Reads a whole uint8 dataset. */
std::vector<std::uint8_t> ReadBytes(const std::string& path, const std::string& dataset);

/** Reads a whole uint64 dataset. */
std::vector<std::uint64_t> ReadU64(const std::string& path, const std::string& dataset);

/** Replaces a 1-D uint8 dataset's contents and extent (it must be chunked and extendible). */
void WriteBytes(const std::string& path, const std::string& dataset,
                const std::vector<std::uint8_t>& bytes);

/** Overwrites a whole uint64 dataset of unchanged extent. */
void WriteU64(const std::string& path, const std::string& dataset,
              const std::vector<std::uint64_t>& values);

/** Overwrites a whole int64 dataset of unchanged extent. */
void WriteI64(const std::string& path, const std::string& dataset,
              const std::vector<std::int64_t>& values);

/** Replaces attribute @p name of @p object by a scalar (u)int64. */
void ReplaceIntAttr(const std::string& path, const std::string& object, const std::string& name,
                    std::int64_t value, bool unsignedType = false);

/** Replaces attribute @p name of @p object by a scalar variable-length string. */
void ReplaceStringAttr(const std::string& path, const std::string& object, const std::string& name,
                       const std::string& value);

/** Replaces attribute @p name of the dataset @p dataset by a 1-D int64 array. */
void ReplaceIntArrayAttr(const std::string& path, const std::string& dataset,
                         const std::string& name, const std::vector<std::int64_t>& values);

/** Where ReplaceStorage puts the values of a float32 [S, W, N] layer instead of the dump. */
enum class StorageKind {
  kExternalRaw,  ///< the raw file @p source (H5Pset_external)
  kVirtual,      ///< a virtual dataset mapping "file:dataset" @p source whole
};

/** Recreates /gradients/<layer> (same extent and shape attribute) with its values elsewhere. */
void ReplaceStorage(const std::string& path, const std::string& layer, StorageKind kind,
                    const std::string& source);

/** The kinds of link AddLink makes. */
enum class LinkKind { kSoft, kExternal };

/**
 * Adds link @p link (a path in @p path, replacing what is there) to @p target: a path in the
 * same file (kSoft), or "file:path" (kExternal).
 */
void AddLink(const std::string& path, const std::string& link, LinkKind kind,
             const std::string& target);

/** Names of the members of a group. */
std::vector<std::string> Members(const std::string& path, const std::string& group);

/** Copies the first @p bytes bytes of @p from to @p to. */
void CopyPrefix(const std::string& from, const std::string& to, std::uint64_t bytes);

/** Size of a file in bytes. */
std::uint64_t FileSize(const std::string& path);

}  // namespace gradquant::test
