#include "gradquant/io/direct_read.hpp"

#include <algorithm>
#include <atomic>

#include "gradquant/core/parallel.hpp"
#include "gradquant/io/posix_file.hpp"

namespace gradquant::detail {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the direct reader copies float32 LE as is");

constexpr std::uint64_t kValueBytes = 4;
// An unfiltered slab is read in pieces of this many values, so one slab spreads over threads.
constexpr std::uint64_t kPieceValues = std::uint64_t{1} << 20;

// The chunk filters, in writing order, if gradquant can undo all of them.
bool ReadPipeline(hid_t dcpl, std::vector<ChunkFilter>* pipeline) {
  const int count = H5Pget_nfilters(dcpl);
  if (count < 0) return false;
  for (unsigned i = 0; i < static_cast<unsigned>(count); ++i) {
    unsigned flags = 0, config = 0;
    std::size_t values = 4;
    unsigned cd[4] = {};
    const H5Z_filter_t id = H5Pget_filter2(dcpl, i, &flags, &values, cd, 0, nullptr, &config);
    if (id == H5Z_FILTER_DEFLATE) {
      pipeline->push_back(ChunkFilter::kDeflate);
    } else if (id == H5Z_FILTER_SHUFFLE && values >= 1 && cd[0] == kValueBytes) {
      pipeline->push_back(ChunkFilter::kShuffle);
    } else if (id == H5Z_FILTER_FLETCHER32) {
      pipeline->push_back(ChunkFilter::kFletcher32);
    } else {
      return false;
    }
  }
  return true;
}

bool ReadFiltered(int fd, const DirectLayout& layout, const DirectPiece& piece, float* out) {
  const std::uint64_t rawBytes = layout.chunk[0] * layout.chunk[1] * layout.chunk[2] * kValueBytes;
  // Deflate grows incompressible data by well under 1 %: a larger size is a damaged index.
  if (piece.bytes > rawBytes + rawBytes / 8 + 4096) return false;
  std::vector<std::uint8_t> stored(piece.bytes), raw;
  if (ReadFully(fd, piece.offset, piece.bytes, stored.data()) != 0) return false;
  if (!UndoFilters(layout.pipeline, stored, rawBytes, raw)) return false;
  std::copy_n(reinterpret_cast<const float*>(raw.data()) + piece.skip, piece.count,
              out + piece.first);
  return true;
}

}  // namespace

DirectLayout DescribeLayout(const H5::H5File& file, const H5::DataSet& ds) {
  DirectLayout layout;
  const Id type(H5Dget_type(ds.getId()), H5Tclose);
  const Id dcpl(H5Dget_create_plist(ds.getId()), H5Pclose);
  const Id fcpl(H5Fget_create_plist(file.getId()), H5Pclose);
  if (!type.ok() || !dcpl.ok() || !fcpl.ok()) return layout;
  if (H5Tequal(type.get(), H5T_IEEE_F32LE) <= 0) return layout;
  if (H5Pget_external_count(dcpl.get()) != 0) return layout;
  hsize_t userblock = 0;
  if (H5Pget_userblock(fcpl.get(), &userblock) < 0) return layout;
  layout.base = userblock;
  const std::vector<hsize_t> dims = Dims(ds);
  if (dims.size() != 3) return layout;
  std::copy(dims.begin(), dims.end(), layout.dims.begin());
  switch (H5Pget_layout(dcpl.get())) {
    case H5D_CONTIGUOUS: {
      const haddr_t address = H5Dget_offset(ds.getId());
      if (address == HADDR_UNDEF) return layout;  // nothing written: HDF5 returns fill values
      layout.address = address;  // counted from the start of the file, unlike chunk addresses
      layout.usable = true;
      return layout;
    }
    case H5D_CHUNKED: {
      hsize_t chunk[3] = {};
      if (H5Pget_chunk(dcpl.get(), 3, chunk) != 3) return layout;
      std::copy(chunk, chunk + 3, layout.chunk.begin());
      layout.chunked = true;
      layout.usable = ReadPipeline(dcpl.get(), &layout.pipeline);
      return layout;
    }
    default:
      return layout;  // compact or virtual: small or elsewhere, HDF5 reads them
  }
}

bool PlanSlab(const H5::DataSet& ds, const DirectLayout& layout, std::uint64_t record,
              std::uint64_t worker, std::vector<DirectPiece>* pieces) {
  const std::uint64_t n = layout.dims[2];
  pieces->clear();
  if (!layout.chunked) {
    const std::uint64_t start =
        layout.address + ((record * layout.dims[1] + worker) * n) * kValueBytes;
    for (std::uint64_t first = 0; first < n; first += kPieceValues) {
      const std::uint64_t count = std::min(kPieceValues, n - first);
      pieces->push_back({start + first * kValueBytes, count * kValueBytes, first, count, 0});
    }
    return true;
  }
  const auto& c = layout.chunk;
  // Position of the slab's first value in every chunk it crosses.
  const std::uint64_t skip = ((record % c[0]) * c[1] + worker % c[1]) * c[2];
  for (std::uint64_t first = 0; first < n; first += c[2]) {
    const hsize_t origin[3] = {record - record % c[0], worker - worker % c[1], first};
    unsigned skipped = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t bytes = 0;
    if (H5Dget_chunk_info_by_coord(ds.getId(), origin, &skipped, &address, &bytes) < 0 ||
        address == HADDR_UNDEF || skipped != 0) {
      return false;
    }
    const std::uint64_t count = std::min(c[2], n - first);
    if (layout.pipeline.empty()) {  // read only this slab's values of the chunk
      pieces->push_back(
          {layout.base + address + skip * kValueBytes, count * kValueBytes, first, count, 0});
    } else {
      pieces->push_back({layout.base + address, bytes, first, count, skip});
    }
  }
  return true;
}

bool ReadPieces(int fd, const DirectLayout& layout, const std::vector<DirectPiece>& pieces,
                float* out) {
  std::atomic<bool> ok{true};
  SplitFor(pieces.size(), [&](std::size_t i) {
    if (!ok.load(std::memory_order_relaxed)) return;
    const DirectPiece& piece = pieces[i];
    const bool done = layout.pipeline.empty()
                          ? ReadFully(fd, piece.offset, piece.bytes, out + piece.first) == 0
                          : ReadFiltered(fd, layout, piece, out);
    if (!done) ok = false;
  });
  return ok;
}

}  // namespace gradquant::detail
