// PowerSGD against docs/quantizers.md#powersgd.
#include "gradquant/quantizers/powersgd.hpp"

#include <catch2/catch.hpp>
#include <cstring>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/householder_qr.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "test_util.hpp"

namespace gradquant {
namespace {

arma::vec D(const arma::fvec& v) { return arma::conv_to<arma::vec>::from(v); }

double ErrSq(const arma::fvec& a, const arma::fvec& b) {
  return arma::accu(arma::square(D(a) - D(b)));
}

// A row-major n×m slab of rank <= k: sum of k outer products of Gaussian vectors.
arma::fvec LowRank(std::size_t n, std::size_t m, std::size_t k, std::uint64_t seed) {
  arma::vec out(n * m, arma::fill::zeros);
  for (std::size_t c = 0; c < k; ++c) {
    const arma::vec u = D(test::GaussianSlab(n, 1.0, seed + 2 * c));
    const arma::vec v = D(test::GaussianSlab(m, 1.0, seed + 2 * c + 1));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < m; ++j) out[i * m + j] += u[i] * v[j];
    }
  }
  return arma::conv_to<arma::fvec>::from(out);
}

std::vector<float> Floats(const Message& m, std::size_t first, std::size_t count) {
  std::vector<float> out(count);
  for (std::size_t k = 0; k < count; ++k) {
    const std::size_t byte = 4 * (first + k);
    const std::uint32_t bits = (std::uint32_t{m.bytes[byte]} << 24) | (m.bytes[byte + 1] << 16) |
                               (m.bytes[byte + 2] << 8) | m.bytes[byte + 3];
    std::memcpy(&out[k], &bits, 4);
  }
  return out;
}

}  // namespace

TEST_CASE("Householder Q is orthonormal and spans the columns, even when rank deficient",
          "[powersgd]") {
  const std::size_t n = 40, r = 4;
  for (int rank : {0, 1, 2, 4}) {
    arma::mat a(n, r, arma::fill::zeros);  // column c = combination of the first `rank` bases
    const arma::mat basis = arma::reshape(D(test::GaussianSlab(n * 4, 1.0, 5)), n, 4);
    const arma::mat mix = arma::reshape(D(test::GaussianSlab(16, 1.0, 6)), 4, 4);
    if (rank > 0) a = basis.cols(0, rank - 1) * mix.rows(0, rank - 1);
    std::vector<double> rowMajor(n * r);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < r; ++c) rowMajor[i * r + c] = a(i, c);
    }
    const std::vector<double> q = HouseholderQ(rowMajor, n, r);
    arma::mat qm(n, r);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t c = 0; c < r; ++c) qm(i, c) = q[i * r + c];
    }
    INFO("rank " << rank);
    CHECK(arma::norm(qm.t() * qm - arma::eye(r, r), "fro") < 1e-13);
    // The columns of A lie in span(Q); with full rank, the projector equals qr_econ's.
    CHECK(arma::norm(a - qm * (qm.t() * a), "fro") <= 1e-13 * std::max(1.0, arma::norm(a, "fro")));
    if (rank == static_cast<int>(r)) {
      arma::mat qa, ra;
      REQUIRE(arma::qr_econ(qa, ra, a));
      CHECK(arma::norm(qa * qa.t() - qm * qm.t(), "fro") < 1e-12);
    }
  }
}

TEST_CASE("PowerSGD is exact for one worker with rank(M) <= r, with 32 r (n+m) bits",
          "[powersgd]") {
  // Tolerance. P travels as float32, and P-hat is the basis of the rounded P, so its span is
  // off col(M) by an angle of about 2^-24 * kappa, kappa = sigma_1(P)/sigma_rank(M)(P); the
  // squared relative error is then about (2^-24 kappa)^2 (Q's rounding adds ~2^-48). With
  // r = rank(M) the r×r sketch V^T Q can be badly conditioned (kappa up to ~400 was seen over 200
  // seeds: nmse 5e-11, relative error 7e-6, so 1e-12 of float64 is out of reach); we
  // check nmse <= 64 (2^-24 kappa)^2 (the worst ratio seen over 1200 seeded runs was 15), and
  // with oversampling (r > rank M, kappa ~ 1..20) the plain nmse <= 1e-12, i.e. a relative
  // error <= 1e-6.
  struct Case {
    std::vector<std::uint64_t> shape;
    std::size_t r, rankM;
  };
  for (const Case& c : {Case{{30, 50}, 2, 2}, Case{{30, 50}, 4, 1}, Case{{64, 8, 3, 3}, 3, 3},
                        Case{{100, 256}, 1, 1}, Case{{100, 256}, 4, 2}, Case{{10, 100}, 4, 0}}) {
    const LayerInfo layer = test::Layer(c.shape);
    const std::size_t n = c.shape[0], m = layer.n / n;
    const arma::fvec g = LowRank(n, m, c.rankM, 40 + c.r);
    const auto q = BuiltinRegistry().Make("powersgd:rank=" + std::to_string(c.r));
    const auto ctx = test::Context(layer, 9, 2);
    const auto msgs = q->EncodeGroup({g}, ctx, nullptr);
    INFO("n " << n << " m " << m << " r " << c.r << " rank " << c.rankM);
    CHECK(msgs[0].bits == 32 * c.r * (n + m));
    const GroupResult res = q->DecodeGroup(msgs, ctx);
    CHECK(res.downlinkBits == 32 * c.r * (n + m));
    const double normSq = arma::accu(arma::square(D(g)));
    const double nmse = ErrSq(res.workers[0], g) / std::max(normSq, 1e-300);
    CHECK(ErrSq(res.aggregate, g) == ErrSq(res.workers[0], g));  // one worker: P-hat Q^T both
    if (c.rankM == 0) {
      CHECK(ErrSq(res.workers[0], g) == 0.0);
      continue;
    }
    const std::vector<float> p = Floats(msgs[0], 0, n * c.r);
    const arma::vec sigma = arma::svd(arma::reshape(D(arma::fvec(p)), c.r, n));  // P^T: same sigma
    const double kappa = sigma[0] / sigma[c.rankM - 1];
    INFO("kappa " << kappa << " nmse " << nmse);
    CHECK(nmse <= 64.0 * std::pow(std::ldexp(kappa, -24), 2));
    if (c.r > c.rankM) CHECK(nmse <= 1e-12);
    CHECK(q->ExpectedError(g, ctx).lowerBound <= 1e-10 * normSq);
  }
}

TEST_CASE("PowerSGD error is never below the Eckart-Young bound", "[powersgd]") {
  for (const char* spec : {"powersgd:rank=1", "powersgd:rank=2", "powersgd:rank=4"}) {
    const std::size_t r = static_cast<std::size_t>(spec[14] - '0');
    const LayerInfo layer = test::Layer({20, 6, 5});  // n = 20, m = 30
    const auto q = BuiltinRegistry().Make(spec);
    for (std::uint64_t seed : {1, 2, 3}) {
      const auto ctx = test::Context(layer, seed, seed, 4);
      std::vector<arma::fvec> slabs;
      const arma::fvec common = LowRank(20, 30, 2, 100 + seed);
      for (std::uint64_t w = 0; w < 4; ++w) {
        slabs.push_back(common + 0.5f * test::LaplaceSlab(600, 1.0, 10 * seed + w));
      }
      const GroupResult res = q->DecodeGroup(q->EncodeGroup(slabs, ctx, nullptr), ctx);
      INFO(spec << " seed " << seed);
      arma::vec mean(600, arma::fill::zeros);
      for (std::size_t w = 0; w < 4; ++w) {
        mean += D(slabs[w]) / 4.0;
        const Theory t = q->ExpectedError(slabs[w], ctx);
        CHECK(std::string(t.Kind()) == "lower_bound");
        CHECK(ErrSq(res.workers[w], slabs[w]) >= t.lowerBound * (1 - 1e-6));
      }
      const arma::fvec meanF = arma::conv_to<arma::fvec>::from(mean);
      const double ey = EckartYoungTail(meanF.memptr(), 20, 30, r);
      CHECK(ey > 0);
      CHECK(ErrSq(res.aggregate, meanF) >= ey * (1 - 1e-6));
      SlabStats stats;
      q->Diagnose(slabs, res, ctx, &stats);
      CHECK(stats.at("eckart_young_nmse") ==
            Approx(ey / arma::accu(arma::square(D(meanF)))).epsilon(1e-9));
    }
  }
}

TEST_CASE("PowerSGD decoder rebuilds the encoder's P-hat bit for bit", "[powersgd]") {
  const LayerInfo layer = test::Layer({24, 40});
  const LowRankShape s = PowerSgdShape(layer, 3);
  REQUIRE(s.rank == 3);
  const auto q = BuiltinRegistry().Make("powersgd:rank=3");
  const auto ctx = test::Context(layer, 4, 1, 3);
  std::vector<arma::fvec> slabs;
  for (std::uint64_t w = 0; w < 3; ++w) slabs.push_back(test::LaplaceSlab(layer.n, 1.0, 60 + w));
  const auto msgs = q->EncodeGroup(slabs, ctx, nullptr);
  std::vector<std::vector<float>> p;
  for (const auto& m : msgs) p.push_back(Floats(m, 0, s.n * s.rank));
  const std::vector<double> basis = PowerSgdBasis(p, s);  // what the decoder computes
  for (std::size_t w = 0; w < 3; ++w) {
    const std::vector<float> sent = Floats(msgs[w], s.n * s.rank, s.m * s.rank);
    for (std::size_t j = 0; j < s.m; ++j) {
      for (std::size_t c = 0; c < s.rank; ++c) {
        double acc = 0.0;
        for (std::size_t i = 0; i < s.n; ++i) acc += slabs[w][i * s.m + j] * basis[i * s.rank + c];
        REQUIRE(sent[j * s.rank + c] == static_cast<float>(acc));
      }
    }
  }
  // Q is shared (keyed with worker 0): identical slabs give identical messages.
  const auto same = q->EncodeGroup({slabs[0], slabs[0]}, ctx, nullptr);
  CHECK(same[0].bytes == same[1].bytes);
}

TEST_CASE("PowerSGD sends vectors and non-compressible matrices as float32", "[powersgd]") {
  const auto q = BuiltinRegistry().Make("powersgd:rank=2");
  for (const auto& shape :
       std::vector<std::vector<std::uint64_t>>{{10}, {3, 3}, {1, 100}, {4, 4}}) {
    const LayerInfo layer = test::Layer(shape);
    CHECK(PowerSgdShape(layer, 2).rank == 0);
    const arma::fvec g = test::LaplaceSlab(layer.n, 1.0, 3);
    const auto ctx = test::Context(layer, 1, 0, 2);
    const auto msgs = q->EncodeGroup({g, g}, ctx, nullptr);
    CHECK(msgs[0].bits == 32 * layer.n);
    const GroupResult res = q->DecodeGroup(msgs, ctx);
    CHECK(ErrSq(res.workers[0], g) == 0.0);
    CHECK(q->ExpectedError(g, ctx).exact == 0.0);
  }
  CHECK(PowerSgdShape(test::Layer({5, 5}), 2).rank == 2);  // 2*10 < 25
  CHECK(PowerSgdShape(test::Layer({5, 5}), 3).rank == 0);  // 3*10 >= 25
  // r_eff = min(r, n, m); r_eff = min(n, m) never pays: r_eff (n + m) >= n m.
  CHECK(PowerSgdShape(test::Layer({8, 1, 5, 5}), 9).rank == 0);
  const LowRankShape conv = PowerSgdShape(test::Layer({64, 8, 3, 3}), 3);
  CHECK((conv.n == 64 && conv.m == 72 && conv.rank == 3));
}

TEST_CASE("PowerSGD rejects non-finite factors", "[powersgd]") {
  const LayerInfo layer = test::Layer({16, 16});
  const auto q = BuiltinRegistry().Make("powersgd:rank=1");
  const auto ctx = test::Context(layer, 1);
  auto msgs = q->EncodeGroup({test::LaplaceSlab(256, 1.0, 1)}, ctx, nullptr);
  msgs[0].bytes[0] = 0x7f;  // first float of P becomes NaN or infinite
  msgs[0].bytes[1] = 0xc0;
  CHECK_THROWS_AS(q->DecodeGroup(msgs, ctx), FormatError);
}

}  // namespace gradquant
