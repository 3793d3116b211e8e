#include "gradquant/stats/worker_correlation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

CoMoments CoMoments::Of(const std::vector<arma::fvec>& slabs) {
  const std::size_t w = slabs.size(), n = slabs.at(0).n_elem;
  arma::mat x(n, w);
  for (std::size_t k = 0; k < w; ++k) x.col(k) = arma::conv_to<arma::vec>::from(slabs[k]);
  CoMoments out;
  out.count = static_cast<double>(n);
  out.mean = n ? arma::vec(arma::mean(x, 0).t()) : arma::vec(w, arma::fill::zeros);
  x.each_row() -= out.mean.t();
  out.c = x.t() * x;
  return out;
}

void CoMoments::Merge(const CoMoments& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  const double n = count + o.count;
  const arma::vec delta = o.mean - mean;
  c += o.c + (count * o.count / n) * (delta * delta.t());
  mean += delta * (o.count / n);
  count = n;
}

arma::mat CoMoments::Pearson() const {
  const std::size_t w = c.n_rows;
  arma::mat r(w, w);
  for (std::size_t a = 0; a < w; ++a) {
    for (std::size_t b = 0; b < w; ++b) {
      const double den = std::sqrt(c(a, a) * c(b, b));
      r(a, b) = den > 0.0 ? std::clamp(c(a, b) / den, -1.0, 1.0) : kNan;
    }
  }
  return r;
}

arma::vec CoMoments::CorrWithOthers() const {
  const std::size_t w = c.n_rows;
  arma::vec r(w);
  r.fill(kNan);
  if (w < 2) return r;
  const double total = arma::accu(c);
  for (std::size_t k = 0; k < w; ++k) {
    const double cross = arma::accu(c.row(k)) - c(k, k);
    // Σ_{a,b≠k} C_ab = all − row k − column k + C_kk.
    const double others = total - 2.0 * arma::accu(c.row(k)) + c(k, k);
    const double den = std::sqrt(c(k, k) * others);
    if (den > 0.0) r[k] = std::clamp(cross / den, -1.0, 1.0);
  }
  return r;
}

OffDiagonal SummarizeOffDiagonal(const arma::mat& m) {
  double sum = 0.0, lo = kNan, hi = kNan;
  std::size_t count = 0;
  for (std::size_t a = 0; a < m.n_rows; ++a) {
    for (std::size_t b = 0; b < m.n_cols; ++b) {
      if (a == b || !std::isfinite(m(a, b))) continue;
      sum += m(a, b);
      lo = count ? std::min(lo, m(a, b)) : m(a, b);
      hi = count ? std::max(hi, m(a, b)) : m(a, b);
      ++count;
    }
  }
  return {count ? sum / static_cast<double>(count) : kNan, lo, hi};
}

}  // namespace gradquant
