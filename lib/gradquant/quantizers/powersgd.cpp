#include "gradquant/quantizers/powersgd.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/quantizers/fp32.hpp"
#include "gradquant/quantizers/householder_qr.hpp"

namespace gradquant {
namespace {

// The shared random Q (m×rank, row-major), keyed with worker 0 so that all workers agree.
std::vector<double> RandomQ(const SlabContext& ctx, const LowRankShape& s) {
  const Rng rng(ctx.ForWorker(0).Key(), Purpose::kInit);
  std::vector<double> q(s.m * s.rank);
  for (std::size_t i = 0; i < q.size(); ++i) q[i] = rng.Normal(i);
  return q;
}

// Every product below keeps, for each output element, the plain loop's order of operations
// (a sum from 0.0 over the inner index in increasing order), so the bytes are those of the
// plain loops on every machine; only the loop nests are rearranged so that independent sums
// run side by side (and vectorise) instead of one dependent add at a time.

// P = M Q rounded to float32 (n×rank), M the row-major n×m view of g: rows four at a time.
std::vector<float> TimesQ(const float* g, const std::vector<double>& q, const LowRankShape& s) {
  constexpr std::size_t kRows = 4;
  std::vector<float> p(s.n * s.rank);
  std::vector<double> acc(kRows * s.rank);
  for (std::size_t i0 = 0; i0 < s.n; i0 += kRows) {
    const std::size_t rows = std::min(kRows, s.n - i0);
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t j = 0; j < s.m; ++j) {
      const double* qj = q.data() + j * s.rank;
      for (std::size_t r = 0; r < rows; ++r) {
        const double mij = g[(i0 + r) * s.m + j];
        double* a = acc.data() + r * s.rank;
        for (std::size_t c = 0; c < s.rank; ++c) a[c] += mij * qj[c];
      }
    }
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < s.rank; ++c) {
        p[(i0 + r) * s.rank + c] = static_cast<float>(acc[r * s.rank + c]);
      }
    }
  }
  return p;
}

// Q = M^T P̂ rounded to float32 (m×rank): one column of Q at a time, contiguous over j.
std::vector<float> TransposeTimes(const float* g, const std::vector<double>& basis,
                                  const LowRankShape& s) {
  std::vector<double> acc(s.rank * s.m, 0.0);  // column-major: acc[c·m + j]
  for (std::size_t i = 0; i < s.n; ++i) {
    const float* row = g + i * s.m;
    for (std::size_t c = 0; c < s.rank; ++c) {
      const double b = basis[i * s.rank + c];
      double* a = acc.data() + c * s.m;
      for (std::size_t j = 0; j < s.m; ++j) a[j] += static_cast<double>(row[j]) * b;
    }
  }
  std::vector<float> out(s.m * s.rank);
  for (std::size_t j = 0; j < s.m; ++j) {
    for (std::size_t c = 0; c < s.rank; ++c)
      out[j * s.rank + c] = static_cast<float>(acc[c * s.m + j]);
  }
  return out;
}

// P̂ Q^T as a flattened row-major n×m slab: one row at a time, contiguous over j.
template <class T>
arma::fvec Outer(const std::vector<double>& basis, const std::vector<T>& q, const LowRankShape& s) {
  std::vector<double> qt(s.rank * s.m);  // column-major copy of q: qt[c·m + j]
  for (std::size_t j = 0; j < s.m; ++j) {
    for (std::size_t c = 0; c < s.rank; ++c)
      qt[c * s.m + j] = static_cast<double>(q[j * s.rank + c]);
  }
  arma::fvec out(s.n * s.m, arma::fill::none);
  std::vector<double> sum(s.m);
  for (std::size_t i = 0; i < s.n; ++i) {
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t c = 0; c < s.rank; ++c) {
      const double b = basis[i * s.rank + c];
      const double* qc = qt.data() + c * s.m;
      for (std::size_t j = 0; j < s.m; ++j) sum[j] += b * qc[j];
    }
    float* dst = out.memptr() + i * s.m;
    for (std::size_t j = 0; j < s.m; ++j) dst[j] = static_cast<float>(sum[j]);
  }
  return out;
}

void ReadFinite(BitReader& r, std::vector<float>& values, const char* what) {
  // The values there are, checked in order; then a short message fails on the next one.
  const std::size_t have = std::min<std::uint64_t>(values.size(), r.Remaining() / 32);
  GetFloat32s(r, values.data(), have);
  for (std::size_t i = 0; i < have; ++i) {
    if (!std::isfinite(values[i])) r.Fail(std::string("non-finite value in ") + what);
  }
  if (have < values.size()) r.GetFloat32();
}

GroupResult DecodeDense(const std::vector<Message>& messages, const SlabContext& ctx,
                        const std::string& spec) {
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) {
    BitReader r(messages[w], MessageName(spec, ctx.ForWorker(static_cast<std::uint32_t>(w))));
    arma::fvec v(ctx.layer->n, arma::fill::none);
    GetFloat32s(r, v.memptr(), v.n_elem);
    r.ExpectEnd();
    out.workers[w] = std::move(v);
  });
  out.aggregate = MeanByDivision(out.workers);
  out.downlinkBits = 32 * ctx.layer->n;
  return out;
}

}  // namespace

LowRankShape PowerSgdShape(const LayerInfo& layer, std::size_t r) {
  LowRankShape s;
  if (layer.shape.size() < 2 || layer.n == 0 || layer.shape[0] == 0) return s;
  s.n = static_cast<std::size_t>(layer.shape[0]);
  s.m = static_cast<std::size_t>(layer.n) / s.n;
  const std::size_t rank = std::min({r, s.n, s.m});
  if (rank * (s.n + s.m) < s.n * s.m) s.rank = rank;
  return s;
}

std::vector<double> PowerSgdBasis(const std::vector<std::vector<float>>& p, const LowRankShape& s) {
  std::vector<double> mean(s.n * s.rank, 0.0);
  for (const auto& pw : p) {
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += static_cast<double>(pw[i]);
  }
  for (double& x : mean) x /= static_cast<double>(p.size());
  return HouseholderQ(std::move(mean), s.n, s.rank);
}

double EckartYoungTail(const float* g, std::size_t n, std::size_t m, std::size_t rank) {
  // Column-major m×n is the transpose of the row-major n×m view: same singular values.
  arma::mat mt(m, n);
  for (std::size_t k = 0; k < n * m; ++k) mt[k] = static_cast<double>(g[k]);
  arma::vec sigma;
  if (!arma::svd(sigma, mt)) return std::nan("");
  double tail = 0.0;  // summed from the smallest value up, for accuracy
  for (std::size_t i = sigma.n_elem; i-- > rank;) tail += sigma[i] * sigma[i];
  return tail;
}

PowerSgdQuantizer::PowerSgdQuantizer(Params& params) {
  rank_ = static_cast<std::size_t>(params.Int(
      "rank", 2, 1, 1 << 20, "rank r of the approximation P Q^T (r_eff = min(r, n, m))"));
  spec_ = params.Canonical();
}

Message PowerSgdQuantizer::Encode(const arma::fvec& g, const SlabContext& ctx,
                                  SlabStats* stats) const {
  return EncodeGroup({g}, ctx, stats).at(0);
}

std::vector<Message> PowerSgdQuantizer::EncodeGroup(const std::vector<arma::fvec>& slabs,
                                                    const SlabContext& ctx,
                                                    SlabStats* stats) const {
  const LowRankShape s = PowerSgdShape(*ctx.layer, rank_);
  std::vector<Message> out;
  if (s.rank == 0) {
    out.resize(slabs.size());
    ParallelFor(slabs.size(), [&](std::size_t w) {
      BitWriter writer;
      PutFloat32s(writer, slabs[w].memptr(), slabs[w].n_elem);
      out[w] = writer.Finish();
    });
    return out;
  }
  const std::vector<double> q = RandomQ(ctx, s);
  std::vector<std::vector<float>> p(slabs.size());
  ParallelFor(slabs.size(),
              [&](std::size_t w) { p[w] = TimesQ(slabs[w].memptr(), q, s); });  // round 1
  const std::vector<double> basis = PowerSgdBasis(p, s);
  out.resize(slabs.size());
  ParallelFor(slabs.size(), [&](std::size_t w) {
    BitWriter writer;
    PutFloat32s(writer, p[w].data(), p[w].size());
    const std::vector<float> q2 = TransposeTimes(slabs[w].memptr(), basis, s);  // round 2
    PutFloat32s(writer, q2.data(), q2.size());
    out[w] = writer.Finish();
  });
  if (stats) (*stats)["rank_eff"] = static_cast<double>(s.rank);
  return out;
}

GroupResult PowerSgdQuantizer::DecodeGroup(const std::vector<Message>& messages,
                                           const SlabContext& ctx) const {
  const LowRankShape s = PowerSgdShape(*ctx.layer, rank_);
  if (s.rank == 0) return DecodeDense(messages, ctx, spec_);
  std::vector<std::vector<float>> p(messages.size(), std::vector<float>(s.n * s.rank));
  std::vector<std::vector<float>> q(messages.size(), std::vector<float>(s.m * s.rank));
  for (std::size_t w = 0; w < messages.size(); ++w) {
    BitReader r(messages[w], MessageName(spec_, ctx.ForWorker(static_cast<std::uint32_t>(w))));
    ReadFinite(r, p[w], "P");
    ReadFinite(r, q[w], "Q");
    r.ExpectEnd();
  }
  const std::vector<double> basis = PowerSgdBasis(p, s);
  GroupResult out;
  out.workers.resize(messages.size());
  ParallelFor(messages.size(), [&](std::size_t w) { out.workers[w] = Outer(basis, q[w], s); });
  std::vector<double> qMean(s.m * s.rank, 0.0);
  for (std::size_t w = 0; w < messages.size(); ++w) {
    for (std::size_t i = 0; i < qMean.size(); ++i) qMean[i] += static_cast<double>(q[w][i]);
  }
  for (double& x : qMean) x /= static_cast<double>(messages.size());
  out.aggregate = Outer(basis, qMean, s);
  out.downlinkBits = 32 * s.rank * (s.n + s.m);
  return out;
}

Theory PowerSgdQuantizer::ExpectedError(const arma::fvec& g, const SlabContext& ctx) const {
  const LowRankShape s = PowerSgdShape(*ctx.layer, rank_);
  Theory t;
  if (s.rank == 0) {
    t.exact = 0.0;
  } else {
    t.lowerBound = EckartYoungTail(g.memptr(), s.n, s.m, s.rank);
  }
  return t;
}

void PowerSgdQuantizer::Diagnose(const std::vector<arma::fvec>& truth, const GroupResult&,
                                 const SlabContext& ctx, SlabStats* stats) const {
  const LowRankShape s = PowerSgdShape(*ctx.layer, rank_);
  if (!stats || s.rank == 0 || truth.empty()) return;
  arma::vec sum(ctx.layer->n, arma::fill::zeros);
  for (const auto& g : truth) sum += arma::conv_to<arma::vec>::from(g);
  const arma::fvec mean = arma::conv_to<arma::fvec>::from(sum / static_cast<double>(truth.size()));
  double normSq = 0.0;
  for (float x : mean) normSq += static_cast<double>(x) * x;
  (*stats)["eckart_young_nmse"] =
      normSq > 0 ? EckartYoungTail(mean.memptr(), s.n, s.m, s.rank) / normSq : 0.0;
}

}  // namespace gradquant
