// libFuzzer target: arbitrary bytes as a whole file through the readers of untrusted files:
// Dump::Open (the layout checks, the link and storage walk of docs/security.md), every slab
// through ReadSlab (direct reads and HDF5's), and, for a compressed file, MessageReader and the
// decoder of its stored spec. gradquant may answer with its own Error (IoError, FormatError,
// SpecError, NonfiniteError); anything else is a finding.
//
// The bytes go to one file per process in /dev/shm (memory), rewritten per input. libhdf5 itself
// (Debian's 1.10.8) can crash on some mutated files while it parses the superblock and object
// headers; such crashes are the library's, not gradquant's (docs/security.md), which is why
// this target is not part of `make fuzz`'s default set (fuzz/README.md).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "gradquant/core/error.hpp"
#include "gradquant/io/dump.hpp"
#include "gradquant/io/message_store.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace {

using namespace gradquant;

constexpr std::uint64_t kMaxValues = 1u << 20;  // read at most this many values per input

void ReadEverything(const std::string& path) {
  const Dump dump = Dump::Open({path}, NonfinitePolicy::kZero);
  std::uint64_t budget = kMaxValues;
  for (std::size_t l = 0; l < dump.Layers().size(); ++l) {
    for (std::size_t r = 0; r < dump.Steps().size(); ++r) {
      for (std::size_t w = 0; w < dump.Workers(); ++w) {
        if (dump.Layers()[l].n > budget) return;
        budget -= dump.Layers()[l].n;
        (void)dump.ReadSlab(l, r, w);
      }
    }
  }
  if (dump.Files().at(0).attributes.count("message_format_version") == 0) return;
  const MessageReader reader(path);
  const auto quantizer = BuiltinRegistry().Make(reader.Spec());
  for (std::size_t l = 0; l < reader.Layers().size(); ++l) {
    const LayerInfo& layer = reader.Layers()[l];
    auto state = quantizer->NewLayerState(layer);
    for (std::size_t r = 0; r < reader.Steps().size(); ++r) {
      const SlabContext ctx =
          ItemContext(layer, reader.Seed(), static_cast<std::uint64_t>(reader.Steps()[r]),
                      reader.Workers(), state.get());
      (void)DecodeRound(*quantizer, reader.Read(l, r), ctx);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // One file per process, rewritten for each input (HDF5 wants a real path: a memfd's
  // /proc/self/fd name does not resolve).
  static const std::string path = [] {
    const char* shm = "/dev/shm";
    const char* dir =
        access(shm, W_OK) == 0 ? shm : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    return std::string(dir) + "/gradquant-fuzz-dump-" + std::to_string(getpid()) + ".h5";
  }();
  static const struct Remove {
    ~Remove() { unlink(path.c_str()); }
  } remove;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) __builtin_trap();
  }
  try {
    ReadEverything(path);
  } catch (const Error& e) {
    // A refusal with gradquant's own message is the expected outcome for a bad file; set
    // GRADQUANT_FUZZ_VERBOSE=1 to see each one while triaging.
    if (std::getenv("GRADQUANT_FUZZ_VERBOSE")) std::fprintf(stderr, "refused: %s\n", e.what());
  }
  return 0;
}
