// quantizers/slab_plan.hpp on its own: the cut covers the slab exactly once, in order, inside
// buckets, with heads where buckets start; EncodePlan gives the same bits on 1 and 2 threads;
// PlanReader decodes in parallel exactly what it decodes in order, peeks each bucket's header
// where it lies, and fails on a short message with the error a sequential reader gives.
#include "gradquant/quantizers/slab_plan.hpp"

#include <omp.h>

#include <catch2/catch.hpp>
#include <tuple>

#include "gradquant/core/error.hpp"

namespace gradquant {
namespace {

// Restores OpenMP's thread count when it goes.
class Threads {
 public:
  explicit Threads(int n) : old_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(old_); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
  int old_;
};

// A toy bucketed format: per bucket a float32 header (its index + 0.5), then 5 bits per
// coordinate (the coordinate's index mod 32).
Message Encode(const SlabPlan& plan) {
  return EncodePlan(plan, [&](std::size_t, const Segment& s, BitWriter& w) {
    if (s.head) w.PutFloat32(static_cast<float>(s.bucket) + 0.5f);
    for (std::size_t i = s.begin; i < s.end; ++i) w.Put(i % 32, 5);
  });
}

std::uint64_t SegmentBits(const Segment& s) {
  return (s.head ? 32 : 0) + 5 * std::uint64_t{s.Size()};
}

// Decodes the toy format; returns the coordinates and the header each coordinate saw.
std::pair<std::vector<std::uint32_t>, std::vector<float>> Decode(const SlabPlan& plan,
                                                                 const Message& m, bool* parallel) {
  BitReader r(m, "toy");
  PlanReader reader(r, plan, SegmentBits);
  *parallel = reader.Parallel();
  // In parallel a continuing segment takes its bucket's header from the peek; in order, from
  // the head segment read before it (the contract PlanReader documents).
  const std::vector<float> peeked = reader.PeekFloatHeaders();
  std::vector<float> kept(plan.Buckets(), 0.0f);
  std::vector<std::uint32_t> values(plan.N());
  std::vector<float> header(plan.N());
  reader.Run([&](std::size_t, const Segment& s, BitReader& in) {
    float h = 0.0f;
    if (s.head) {
      h = in.GetFloat32();
      if (!reader.Parallel()) kept[s.bucket] = h;
    } else {
      h = reader.Parallel() ? peeked[s.bucket] : kept[s.bucket];
    }
    for (std::size_t i = s.begin; i < s.end; ++i) {
      values[i] = static_cast<std::uint32_t>(in.Get(5));
      header[i] = h;
    }
  });
  r.ExpectEnd();
  return {values, header};
}

}  // namespace

TEST_CASE("SlabPlan covers the slab once, in order, inside buckets", "[quantizers]") {
  for (const auto& shape :
       std::vector<std::tuple<std::size_t, std::size_t, std::size_t>>{{0, 0, 8},
                                                                      {1, 0, 8},
                                                                      {7, 0, 8},
                                                                      {8, 0, 8},
                                                                      {9, 0, 8},
                                                                      {100, 0, 8},
                                                                      {100, 3, 8},
                                                                      {100, 8, 8},
                                                                      {100, 20, 8},
                                                                      {100, 99, 8},
                                                                      {100, 100, 8},
                                                                      {100, 1000, 8},
                                                                      {1000, 7, 64},
                                                                      {1000, 200, 64}}) {
    // Plain copies: clang 14 cannot capture structured bindings in the lambda below.
    const std::size_t n = std::get<0>(shape), bucket = std::get<1>(shape),
                      grain = std::get<2>(shape);
    INFO("n=" << n << " bucket=" << bucket << " grain=" << grain);
    const SlabPlan plan(n, bucket, grain);
    const std::size_t buckets = bucket == 0 || bucket >= n ? 1 : (n + bucket - 1) / bucket;
    REQUIRE(plan.Buckets() == buckets);
    REQUIRE(plan.Pieces() >= 1);
    std::size_t next = 0, segments = 0;
    std::vector<std::size_t> heads(buckets, 0);
    for (std::size_t p = 0; p < plan.Pieces(); ++p) {
      plan.ForEachSegment(p, [&](const Segment& s) {
        ++segments;
        const auto [b0, b1] = plan.BucketRange(s.bucket);
        CHECK(s.begin == next);  // contiguous, in slab order
        CHECK(s.begin >= b0);
        CHECK(s.end <= b1);  // never crosses a bucket
        CHECK(s.Size() <= std::max<std::size_t>(grain, 1));
        CHECK(s.head == (s.begin == b0));
        if (s.head) {
          ++heads[s.bucket];
          CHECK(plan.FirstPieceOf(s.bucket) == p);
        }
        next = s.end;
      });
    }
    CHECK(next == n);
    CHECK(segments >= 1);
    for (std::size_t k = 0; k < buckets; ++k) CHECK(heads[k] == 1);  // one head per bucket
  }
}

TEST_CASE("EncodePlan and PlanReader: the same bits and values on 1 and 2 threads",
          "[quantizers]") {
  // Buckets longer than a piece (split), shorter (grouped) and one bucket.
  for (const auto& shape :
       std::vector<std::pair<std::size_t, std::size_t>>{{1000, 300}, {1000, 10}, {1000, 0}}) {
    const std::size_t n = shape.first, bucket = shape.second;
    INFO("n=" << n << " bucket=" << bucket);
    const SlabPlan plan(n, bucket, 64);
    REQUIRE(plan.Pieces() > 1);
    Message serial, parallel;
    std::pair<std::vector<std::uint32_t>, std::vector<float>> a, b;
    bool wasParallel = true;
    {
      const Threads one(1);
      serial = Encode(plan);
      a = Decode(plan, serial, &wasParallel);
      CHECK_FALSE(wasParallel);
    }
    {
      const Threads two(2);
      parallel = Encode(plan);
      b = Decode(plan, parallel, &wasParallel);
      CHECK(wasParallel);
    }
    CHECK(serial.bits == parallel.bits);
    CHECK(serial.bytes == parallel.bytes);
    std::uint64_t bits = 0;
    plan.ForEachSegment([&](const Segment& s) { bits += SegmentBits(s); });
    CHECK(serial.bits == bits);
    CHECK(a == b);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = bucket == 0 ? 0 : i / bucket;
      CHECK(a.first[i] == i % 32);
      CHECK(a.second[i] == static_cast<float>(k) + 0.5f);  // the header of its own bucket
    }
  }
}

TEST_CASE("PlanReader on a short message fails as a sequential reader does", "[quantizers]") {
  const SlabPlan plan(1000, 300, 64);
  Message m;
  {
    const Threads one(1);
    m = Encode(plan);
  }
  m.bits -= 7;
  m.bytes.resize(m.bits / 8 + (m.bits % 8 != 0));
  for (int threads : {1, 2}) {
    const Threads t(threads);
    bool parallel = true;
    CHECK_THROWS_AS(Decode(plan, m, &parallel), FormatError);
    CHECK_FALSE(parallel);  // too short for the offsets: read in order, failing where it ends
  }
}

}  // namespace gradquant
