#pragma once
/**
 * @file slab_plan.hpp
 * How a slab is cut for encoding and decoding in parallel without changing a single bit.
 *
 * Bucketed formats write, per bucket in order, a header (a scale) and then one code per
 * coordinate. Every coordinate's code depends only on its value, its bucket's scale and its own
 * random number (Rng is index-addressed), so any run of coordinates can be encoded on its own and
 * the bit strings concatenated. A plan cuts the slab into *segments* (a run inside one bucket,
 * flagged `head` when it starts the bucket) and groups consecutive segments into *pieces* of
 * about `grain` coordinates: long buckets are split, short ones grouped. The cut is a function of
 * (n, bucket, grain) alone, so the output never depends on the thread count.
 */
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"

namespace gradquant {

/** Coordinates per piece: large enough to amortise a thread hand-off, small enough for L2. */
constexpr std::size_t kPieceGrain = std::size_t{1} << 16;

/** A run [begin, end) of coordinates inside bucket `bucket`; `head` if begin starts the bucket. */
struct Segment {
  std::size_t bucket = 0;
  std::size_t begin = 0;
  std::size_t end = 0;
  bool head = false;

  std::size_t Size() const { return end - begin; }
};

/** The cut of one slab; see the file comment. */
class SlabPlan {
 public:
  /**
   * @param n coordinates; @param bucket coordinates per bucket (0 or >= n: one bucket);
   * @param grain the largest segment, and the size pieces are grouped to (a multiple of any
   *        group size the format packs, e.g. 5 trits per byte).
   */
  SlabPlan(std::size_t n, std::size_t bucket, std::size_t grain = kPieceGrain);

  std::size_t N() const { return n_; }
  /** Number of buckets (at least 1, also for n = 0). */
  std::size_t Buckets() const { return buckets_; }
  /** Coordinates [first, second) of bucket k. */
  std::pair<std::size_t, std::size_t> BucketRange(std::size_t k) const;
  /** Number of pieces (at least 1). */
  std::size_t Pieces() const { return pieces_; }

  /** Calls f(segment) for the segments of piece p, in slab order. */
  template <class F>
  void ForEachSegment(std::size_t p, F&& f) const {
    if (split_) {
      const std::size_t k = p / perBucket_, c = p % perBucket_;
      const auto [b0, b1] = BucketRange(k);
      const std::size_t s0 = b0 + c * grain_;
      f(Segment{k, s0, std::min(b1, s0 + grain_), c == 0});
      return;
    }
    const std::size_t k1 = std::min(buckets_, (p + 1) * perPiece_);
    for (std::size_t k = p * perPiece_; k < k1; ++k) {
      const auto [b0, b1] = BucketRange(k);
      f(Segment{k, b0, b1, true});
    }
  }

  /** True when buckets are longer than a piece (pieces then continue buckets). */
  bool SplitsBuckets() const { return split_; }
  /** The piece holding the head of bucket k. */
  std::size_t FirstPieceOf(std::size_t k) const { return split_ ? k * perBucket_ : k / perPiece_; }

  /** Calls f(segment) for every segment of the slab, in order. */
  template <class F>
  void ForEachSegment(F&& f) const {
    for (std::size_t p = 0; p < pieces_; ++p) ForEachSegment(p, f);
  }

 private:
  std::size_t n_, bucket_, grain_, buckets_;
  bool split_;                 // buckets longer than grain: one segment per piece
  std::size_t perBucket_ = 1;  // split: pieces per (full) bucket
  std::size_t perPiece_ = 1;   // grouped: buckets per piece
  std::size_t pieces_ = 1;
};

/**
 * Calls f(k) for every bucket k, spread over the threads when CanSplit(): long buckets one by
 * one, short ones a piece's worth at a time (so a slab of many tiny buckets is a few tasks).
 */
template <class F>
void ForEachBucket(const SlabPlan& plan, F&& f) {
  if (plan.SplitsBuckets()) {
    SplitFor(plan.Buckets(), f);
    return;
  }
  SplitFor(plan.Pieces(),
           [&](std::size_t p) { plan.ForEachSegment(p, [&](const Segment& s) { f(s.bucket); }); });
}

/**
 * Encodes a slab piece by piece: make(p, segment, writer) writes one segment. Pieces run on the
 * OpenMP threads when CanSplit() (each into its own writer, then concatenated in order), else in
 * order into one writer: the same bits either way.
 */
template <class Make>
Message EncodePlan(const SlabPlan& plan, Make&& make) {
  BitWriter w;
  if (plan.Pieces() == 1 || !CanSplit()) {
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {
      plan.ForEachSegment(p, [&](const Segment& s) { make(p, s, w); });
    }
    return w.Finish();
  }
  std::vector<Message> parts(plan.Pieces());
  ParallelFor(plan.Pieces(), [&](std::size_t p) {
    BitWriter pw;
    plan.ForEachSegment(p, [&](const Segment& s) { make(p, s, pw); });
    parts[p] = pw.Finish();
  });
  std::uint64_t total = 0;
  for (const auto& m : parts) total += m.bits;
  w.Reserve(total);
  for (const auto& m : parts) w.Append(m);
  return w.Finish();
}

/**
 * Decodes a slab piece by piece from a BitReader. Every segment's length in bits must be fixed
 * by the format (segmentBits(segment)). When the message holds at least all those bits and
 * CanSplit(), pieces run in parallel on readers placed at their offsets (Parallel()); otherwise
 * (a short message, or one thread) they run in order on the reader itself. Either way a corrupt
 * message fails with the error of a sequential decoder: the lowest piece's first error is the
 * first error in stream order.
 *
 * A segment that continues a bucket begun in an earlier piece needs the bucket's header: in the
 * parallel case PeekFloatHeaders() reads every bucket's 32-bit header at its offset first (not
 * validated: the head segment validates it, and fails first); in order, the head segment keeps it.
 */
class PlanReader {
 public:
  template <class Bits>
  PlanReader(BitReader& r, const SlabPlan& plan, Bits&& segmentBits) : r_(r), plan_(plan) {
    if (plan.Pieces() <= 1 || !CanSplit()) return;
    std::vector<std::uint64_t> offset(plan.Pieces() + 1, 0);
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {
      std::uint64_t bits = 0;
      plan.ForEachSegment(p, [&](const Segment& s) { bits += segmentBits(s); });
      offset[p + 1] = offset[p] + bits;
    }
    if (offset.back() <= r.Remaining()) offset_ = std::move(offset);
  }

  /** True when Run() decodes the pieces in parallel. */
  bool Parallel() const { return !offset_.empty(); }

  /** Every bucket's leading float32, read without moving the reader (Parallel() only). */
  std::vector<float> PeekFloatHeaders() const;

  /**
   * The scale of @p seg's bucket in a format whose buckets are a float32 scale, then fields of
   * @p fieldBits bits each. At the bucket's head it is read from @p in and checked: finite and
   * >= 0 (the error names it "bucket <what>"), and the whole bucket's fields there, as one
   * GetFixed would fail; in order it is kept in @p heads. A segment that continues a bucket gets
   * @p heads' value, from PeekFloatHeaders() or from the head. @throws FormatError
   */
  float BucketScale(const Segment& seg, BitReader& in, int fieldBits, const char* what,
                    std::vector<float>& heads) const;

  /** Calls read(p, segment, reader) for every segment; the reader ends after the last one. */
  template <class Read>
  void Run(Read&& read) {
    if (!Parallel()) {
      for (std::size_t p = 0; p < plan_.Pieces(); ++p) {
        plan_.ForEachSegment(p, [&](const Segment& s) { read(p, s, r_); });
      }
      return;
    }
    const std::uint64_t start = r_.Position();
    ParallelFor(plan_.Pieces(), [&](std::size_t p) {
      BitReader pr = r_.At(start + offset_[p]);
      plan_.ForEachSegment(p, [&](const Segment& s) { read(p, s, pr); });
    });
    r_.Skip(offset_.back());
  }

 private:
  BitReader& r_;
  const SlabPlan& plan_;
  std::vector<std::uint64_t> offset_;  // piece offsets from the start, and the total
};

}  // namespace gradquant
