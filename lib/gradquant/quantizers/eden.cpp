#include "gradquant/quantizers/eden.hpp"

#include "gradquant/quantizers/lloyd_max.hpp"

namespace gradquant {
namespace {

RotatedCodebook EdenCodebook(Params& params) {
  const int bits = static_cast<int>(
      params.Int("bits", 2, 1, kMaxLloydMaxBits,
                 "bits per rotated coordinate: 2^bits Lloyd-Max levels of N(0, 1)"));
  const LloydMaxCodebook& lm = GaussianCodebook(bits);
  RotatedCodebook book;
  book.bits = bits;
  book.levels = lm.levels;
  book.thresholds = lm.boundaries;
  book.zeroCode = static_cast<std::uint32_t>(lm.levels.size() / 2);  // y = 0: t_{K/2-1} = 0 <= 0
  book.distortion = lm.distortion;
  return book;
}

}  // namespace

EdenQuantizer::EdenQuantizer(Params& params) : RotatedQuantizer(params, EdenCodebook(params)) {}

}  // namespace gradquant
