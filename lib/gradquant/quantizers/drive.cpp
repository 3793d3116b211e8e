#include "gradquant/quantizers/drive.hpp"

#include <algorithm>
#include <cmath>

namespace gradquant {
namespace {

RotatedCodebook SignCodebook() {
  RotatedCodebook book;
  book.bits = 1;
  book.levels = {1.0f, -1.0f};  // code 0: y >= 0, code 1: y < 0
  book.zeroCode = 0;
  book.distortion = 1.0 - 2.0 / M_PI;  // E(|Z| − E|Z|)² = 1 − (E|Z|)², E|Z| = √(2/π)
  return book;
}

}  // namespace

DriveQuantizer::DriveQuantizer(Params& params) : RotatedQuantizer(params, SignCodebook()) {}

Theory DriveQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  Theory t = RotatedQuantizer::ExpectedError(g, ctx);
  if (Scale() != RotatedScale::kMse || !std::isnan(t.exact) || std::isnan(t.approx)) return t;
  double sq = 0.0, cube = 0.0;
  for (float v : g) {
    const double a = std::fabs(static_cast<double>(v));
    sq += a * a;
    cube += a * a * a;
  }
  const double norm = std::sqrt(sq);
  const double ratio = std::max(1.0 / std::sqrt(2.0), std::sqrt(2.0 / M_PI) - cube / (sq * norm));
  t.bound = sq * (1.0 - ratio * ratio);
  return t;
}

}  // namespace gradquant
