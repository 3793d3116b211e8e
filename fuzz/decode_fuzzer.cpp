// libFuzzer target: arbitrary bytes as the messages of one (record, layer) group, decoded by
// DecodeGroup of the quantizer, parameters, shape and context the input selects
// (decode_case.hpp). A decoder may reject the input with FormatError; anything else (a crash,
// a sanitizer report, another exception, a hang, a wrong output size) is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "decode_case.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace {

[[noreturn]] void Finding(const std::string& spec, const char* what) {
  std::fprintf(stderr, "decode_fuzzer: %s: %s\n", spec.c_str(), what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace gradquant;
  fuzz::DecodeCase c;
  if (!fuzz::ParseDecodeCase(data, size, &c)) return 0;
  const auto quantizer = BuiltinRegistry().Make(c.spec);
  const auto state = quantizer->NewLayerState(c.layer);
  const SlabContext ctx = fuzz::ContextOf(c, state.get());
  try {
    const GroupResult r = quantizer->DecodeGroup(c.messages, ctx);
    if (r.workers.size() != c.workers) Finding(c.spec, "wrong number of worker outputs");
    for (const auto& w : r.workers) {
      if (w.n_elem != c.layer.n) Finding(c.spec, "a worker output of the wrong size");
    }
    if (r.aggregate.n_elem != c.layer.n) Finding(c.spec, "an aggregate of the wrong size");
    if (state) quantizer->Observe(*state, r, ctx);  // the state update must survive it too
  } catch (const FormatError&) {
    // The expected answer to a corrupt message.
  }
  return 0;
}
