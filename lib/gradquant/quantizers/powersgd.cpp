#include "gradquant/quantizers/powersgd.hpp"

#include <algorithm>
#include <cmath>

#include "gradquant/coding/bit_reader.hpp"
#include "gradquant/coding/bit_writer.hpp"
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

// P = M Q rounded to float32 (n×rank), M the row-major n×m view of g.
std::vector<float> TimesQ(const float* g, const std::vector<double>& q, const LowRankShape& s) {
  std::vector<float> p(s.n * s.rank);
  std::vector<double> acc(s.rank);
  for (std::size_t i = 0; i < s.n; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (std::size_t j = 0; j < s.m; ++j) {
      const double mij = g[i * s.m + j];
      for (std::size_t c = 0; c < s.rank; ++c) acc[c] += mij * q[j * s.rank + c];
    }
    for (std::size_t c = 0; c < s.rank; ++c) p[i * s.rank + c] = static_cast<float>(acc[c]);
  }
  return p;
}

// Q = M^T P̂ rounded to float32 (m×rank).
std::vector<float> TransposeTimes(const float* g, const std::vector<double>& basis,
                                  const LowRankShape& s) {
  std::vector<double> acc(s.m * s.rank, 0.0);
  for (std::size_t i = 0; i < s.n; ++i) {
    for (std::size_t j = 0; j < s.m; ++j) {
      const double mij = g[i * s.m + j];
      for (std::size_t c = 0; c < s.rank; ++c) acc[j * s.rank + c] += mij * basis[i * s.rank + c];
    }
  }
  return std::vector<float>(acc.begin(), acc.end());
}

// P̂ Q^T as a flattened row-major n×m slab.
template <class T>
arma::fvec Outer(const std::vector<double>& basis, const std::vector<T>& q, const LowRankShape& s) {
  arma::fvec out(s.n * s.m);
  for (std::size_t i = 0; i < s.n; ++i) {
    for (std::size_t j = 0; j < s.m; ++j) {
      double sum = 0.0;
      for (std::size_t c = 0; c < s.rank; ++c) {
        sum += basis[i * s.rank + c] * static_cast<double>(q[j * s.rank + c]);
      }
      out[i * s.m + j] = static_cast<float>(sum);
    }
  }
  return out;
}

void ReadFinite(BitReader& r, std::vector<float>& values, const char* what) {
  for (float& x : values) {
    x = r.GetFloat32();
    if (!std::isfinite(x)) r.Fail(std::string("non-finite value in ") + what);
  }
}

GroupResult DecodeDense(const std::vector<Message>& messages, const SlabContext& ctx,
                        const std::string& spec) {
  GroupResult out;
  arma::vec sum(ctx.layer->n, arma::fill::zeros);
  for (std::size_t w = 0; w < messages.size(); ++w) {
    BitReader r(messages[w], MessageName(spec, ctx.ForWorker(static_cast<std::uint32_t>(w))));
    arma::fvec v(ctx.layer->n);
    for (auto& x : v) x = r.GetFloat32();
    r.ExpectEnd();
    sum += arma::conv_to<arma::vec>::from(v);
    out.workers.push_back(std::move(v));
  }
  out.aggregate = arma::conv_to<arma::fvec>::from(sum / static_cast<double>(messages.size()));
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
    for (const auto& g : slabs) {
      BitWriter w;
      for (float x : g) w.PutFloat32(x);
      out.push_back(w.Finish());
    }
    return out;
  }
  const std::vector<double> q = RandomQ(ctx, s);
  std::vector<std::vector<float>> p;
  for (const auto& g : slabs) p.push_back(TimesQ(g.memptr(), q, s));  // round 1
  const std::vector<double> basis = PowerSgdBasis(p, s);
  for (std::size_t w = 0; w < slabs.size(); ++w) {
    BitWriter writer;
    for (float x : p[w]) writer.PutFloat32(x);
    for (float x : TransposeTimes(slabs[w].memptr(), basis, s)) writer.PutFloat32(x);  // round 2
    out.push_back(writer.Finish());
  }
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
  std::vector<double> qMean(s.m * s.rank, 0.0);
  for (std::size_t w = 0; w < messages.size(); ++w) {
    out.workers.push_back(Outer(basis, q[w], s));
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
