#include "gradquant/quantizers/hadamard.hpp"

#include <immintrin.h>

#include <algorithm>

#include "gradquant/core/cpu.hpp"
#include "gradquant/core/parallel.hpp"

namespace gradquant {
namespace {

constexpr std::size_t kLeaf = std::size_t{1} << 12;  // floats transformed in L1 (16 KiB)
constexpr std::size_t kMaxRows = 64;                 // rows of a tile: 6 stages per sweep
constexpr std::size_t kWidth = 64;                   // floats per row of a tile: 4 cache lines

// ---- Portable: defines the result (stage order and roundings of the file comment). ----

// Stages s and 2s over x[0, len) fused (len a multiple of 4s): the same four additions and
// four subtractions as the two radix-2 stages, in registers.
inline void Radix4(float* x, std::size_t len, std::size_t s) {
  for (std::size_t b = 0; b < len; b += 4 * s) {
    float* p = x + b;
    for (std::size_t i = 0; i < s; ++i) {
      const float a = p[i], c = p[i + s], e = p[i + 2 * s], f = p[i + 3 * s];
      const float u = a + c, v = a - c, w = e + f, z = e - f;
      p[i] = u + w;
      p[i + s] = v + z;
      p[i + 2 * s] = u - w;
      p[i + 3 * s] = v - z;
    }
  }
}

inline void Radix2(float* x, std::size_t len, std::size_t s) {
  for (std::size_t b = 0; b < len; b += 2 * s) {
    float* p = x + b;
    for (std::size_t i = 0; i < s; ++i) {
      const float a = p[i], c = p[i + s];
      p[i] = a + c;
      p[i + s] = a - c;
    }
  }
}

// Every stage with stride >= `from` and < len, in increasing order.
inline void StagesFrom(float* x, std::size_t len, std::size_t from) {
  std::size_t s = from;
  for (; 4 * s <= len; s *= 4) Radix4(x, len, s);
  if (2 * s <= len) Radix2(x, len, s);
}

void LeafPortable(float* x, std::size_t len) { StagesFrom(x, len, 1); }

// ---- AVX2: the same operations, eight lanes at a time. ----

// The stages of strides 1, 2 and 4 inside one vector. w holds each lane's partner: a lane that
// is the first of its pair takes v + w (x_i + x_partner), the second takes w − v
// (x_partner − x_i), exactly the two operations of the portable stage.
__attribute__((target("avx2"))) inline __m256 LowStages(__m256 v) {
  __m256 w = _mm256_permute_ps(v, 0xB1);  // stride 1: partner lanes 1,0,3,2
  v = _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xAA);
  w = _mm256_permute_ps(v, 0x4E);  // stride 2: 2,3,0,1
  v = _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xCC);
  w = _mm256_permute2f128_ps(v, v, 0x01);  // stride 4: the other half
  return _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xF0);
}

__attribute__((target("avx2"))) inline void Radix4Avx2(float* x, std::size_t len, std::size_t s) {
  for (std::size_t b = 0; b < len; b += 4 * s) {
    float* p = x + b;
    for (std::size_t i = 0; i < s; i += 8) {
      const __m256 a = _mm256_loadu_ps(p + i), c = _mm256_loadu_ps(p + i + s);
      const __m256 e = _mm256_loadu_ps(p + i + 2 * s), f = _mm256_loadu_ps(p + i + 3 * s);
      const __m256 u = _mm256_add_ps(a, c), v = _mm256_sub_ps(a, c);
      const __m256 w = _mm256_add_ps(e, f), z = _mm256_sub_ps(e, f);
      _mm256_storeu_ps(p + i, _mm256_add_ps(u, w));
      _mm256_storeu_ps(p + i + s, _mm256_add_ps(v, z));
      _mm256_storeu_ps(p + i + 2 * s, _mm256_sub_ps(u, w));
      _mm256_storeu_ps(p + i + 3 * s, _mm256_sub_ps(v, z));
    }
  }
}

__attribute__((target("avx2"))) inline void Radix2Avx2(float* x, std::size_t len, std::size_t s) {
  for (std::size_t b = 0; b < len; b += 2 * s) {
    float* p = x + b;
    for (std::size_t i = 0; i < s; i += 8) {
      const __m256 a = _mm256_loadu_ps(p + i), c = _mm256_loadu_ps(p + i + s);
      _mm256_storeu_ps(p + i, _mm256_add_ps(a, c));
      _mm256_storeu_ps(p + i + s, _mm256_sub_ps(a, c));
    }
  }
}

__attribute__((target("avx2"))) void LeafAvx2(float* x, std::size_t len) {
  if (len < 8) {
    LeafPortable(x, len);
    return;
  }
  for (std::size_t i = 0; i < len; i += 8)
    _mm256_storeu_ps(x + i, LowStages(_mm256_loadu_ps(x + i)));
  std::size_t s = 8;
  for (; 4 * s <= len; s *= 4) Radix4Avx2(x, len, s);
  if (2 * s <= len) Radix2Avx2(x, len, s);
}

using LeafFn = void (*)(float*, std::size_t);
using StagesFn = void (*)(float*, std::size_t, std::size_t);

void StagesPortable(float* x, std::size_t len, std::size_t from) { StagesFrom(x, len, from); }

__attribute__((target("avx2"))) void StagesAvx2(float* x, std::size_t len, std::size_t from) {
  std::size_t s = from;
  for (; 4 * s <= len; s *= 4) Radix4Avx2(x, len, s);
  if (2 * s <= len) Radix2Avx2(x, len, s);
}

struct Kernels {
  LeafFn leaf;
  StagesFn stages;  // StagesFrom(x, len, from) with from >= 8
};

// The stages with strides C, 2C, .., (rows/2)·C on the kWidth columns starting at x (row r is
// x[r·C, r·C + kWidth)). The rows are copied into a contiguous tile first: rows a power-of-two
// stride apart share one cache set and would evict each other at every stage. In the tile,
// row stage s is the stride s·kWidth stage of a plain transform.
void Rows(const Kernels& k, float* x, std::size_t rows, std::size_t cols) {
  alignas(64) float tile[kMaxRows * kWidth];
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy(x + r * cols, x + r * cols + kWidth, tile + r * kWidth);
  }
  k.stages(tile, rows * kWidth, kWidth);
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy(tile + r * kWidth, tile + (r + 1) * kWidth, x + r * cols);
  }
}

// The cut of a transform of length d > kLeaf: rows × cols, as many rows as one tile holds.
std::size_t RowsOf(std::size_t d) { return std::min(kMaxRows, d / kLeaf); }

// All stages of x[0, d) on this thread; `first` is x's offset in the whole transform.
void Serial(const Kernels& k, float* x, std::size_t d, std::size_t first,
            const HadamardFill& fill) {
  if (d <= kLeaf) {
    if (fill) fill(first, d);
    k.leaf(x, d);
    return;
  }
  const std::size_t rows = RowsOf(d), cols = d / rows;
  for (std::size_t r = 0; r < rows; ++r) Serial(k, x + r * cols, cols, first + r * cols, fill);
  for (std::size_t c = 0; c < cols; c += kWidth) Rows(k, x + c, rows, cols);
}

}  // namespace

std::size_t NextPowerOfTwo(std::size_t n) {
  std::size_t d = 1;
  while (d < n) d <<= 1;
  return d;
}

std::size_t HadamardBlock(std::size_t d) { return std::min(d, kLeaf); }

void Hadamard(float* x, std::size_t d, const HadamardFill& fill) {
  const Kernels k =
      UseAvx2() ? Kernels{LeafAvx2, StagesAvx2} : Kernels{LeafPortable, StagesPortable};
  if (d <= kLeaf) {
    Serial(k, x, d, 0, fill);
    return;
  }
  // The top level on the threads: its blocks, then its column tiles, each independent.
  const std::size_t rows = RowsOf(d), cols = d / rows;
  SplitFor(rows, [&](std::size_t r) { Serial(k, x + r * cols, cols, r * cols, fill); });
  SplitFor(cols / kWidth, [&](std::size_t t) { Rows(k, x + t * kWidth, rows, cols); });
}

}  // namespace gradquant
