#include "gradquant/quantizers/slab_plan.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace gradquant {

SlabPlan::SlabPlan(std::size_t n, std::size_t bucket, std::size_t grain)
    : n_(n),
      bucket_(bucket == 0 || bucket >= n ? std::max<std::size_t>(n, 1) : bucket),
      grain_(std::max<std::size_t>(grain, 1)) {
  buckets_ = n == 0 ? 1 : (n + bucket_ - 1) / bucket_;
  split_ = bucket_ > grain_;
  if (split_) {
    perBucket_ = (bucket_ + grain_ - 1) / grain_;
    const std::size_t last = n - (buckets_ - 1) * bucket_;  // the last bucket may be shorter
    pieces_ = (buckets_ - 1) * perBucket_ + (last + grain_ - 1) / grain_;
  } else {
    perPiece_ = std::max<std::size_t>(1, grain_ / bucket_);
    pieces_ = (buckets_ + perPiece_ - 1) / perPiece_;
  }
}

std::pair<std::size_t, std::size_t> SlabPlan::BucketRange(std::size_t k) const {
  const std::size_t b0 = std::min(n_, k * bucket_);
  return {b0, std::min(n_, b0 + bucket_)};
}

std::vector<float> PlanReader::PeekFloatHeaders() const {
  std::vector<float> heads(plan_.Buckets(), 0.0f);
  if (!Parallel() || !plan_.SplitsBuckets()) return heads;  // no segment continues a bucket
  const std::uint64_t start = r_.Position();
  for (std::size_t k = 0; k < heads.size(); ++k) {
    const std::uint64_t at = start + offset_[plan_.FirstPieceOf(k)];
    if (offset_.back() - (at - start) >= 32) heads[k] = r_.At(at).GetFloat32();
  }
  return heads;
}

float PlanReader::BucketScale(const Segment& seg, BitReader& in, int fieldBits, const char* what,
                              std::vector<float>& heads) const {
  if (!seg.head) return heads[seg.bucket];
  const float scale = in.GetFloat32();
  if (!(scale >= 0.0f) || !std::isfinite(scale)) {
    in.Fail(std::string("bucket ") + what + " is not a finite value >= 0");
  }
  const auto [b0, b1] = plan_.BucketRange(seg.bucket);
  in.CheckFixed(b1 - b0, fieldBits);
  if (!Parallel()) heads[seg.bucket] = scale;
  return scale;
}

}  // namespace gradquant
