#include "gradquant/stats/error_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gradquant {

double SquaredNorm(const arma::fvec& a) {
  double sum = 0.0;
  for (float x : a) sum += static_cast<double>(x) * x;
  return sum;
}

double Dot(const arma::fvec& a, const arma::fvec& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.n_elem; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

double SquaredDistance(const arma::fvec& a, const arma::fvec& b) {
  double sum = 0.0;
  for (std::size_t i = 0; i < a.n_elem; ++i) {
    const double d = static_cast<double>(a[i]) - static_cast<double>(b[i]);
    sum += d * d;
  }
  return sum;
}

double Cosine(const arma::fvec& a, const arma::fvec& b) {
  const double aa = SquaredNorm(a), bb = SquaredNorm(b);
  if (aa == 0.0 && bb == 0.0) return std::numeric_limits<double>::quiet_NaN();
  if (aa == 0.0 || bb == 0.0) return 0.0;
  return Dot(a, b) / std::sqrt(aa * bb);
}

double BestScale(const arma::fvec& out, const arma::fvec& truth) {
  const double outSq = SquaredNorm(out);
  return outSq > 0.0 ? Dot(out, truth) / outSq : 0.0;
}

double FitErrorSq(const arma::fvec& out, const arma::fvec& truth, bool signOutput) {
  if (!signOutput) return SquaredDistance(out, truth);
  // The closed form avoids forming c* out; it is exact up to rounding, so clamp at 0.
  const double dot = Dot(out, truth), outSq = SquaredNorm(out), truthSq = SquaredNorm(truth);
  return outSq > 0.0 ? std::max(0.0, truthSq - dot * dot / outSq) : truthSq;
}

void FitErrorAndNormSq(const arma::fvec& out, const arma::fvec& truth, bool signOutput,
                       double* errorSq, double* normSq) {
  if (signOutput) {
    *errorSq = FitErrorSq(out, truth, true);
    *normSq = SquaredNorm(truth);
    return;
  }
  // The same in-order sums as SquaredDistance and SquaredNorm, side by side.
  const float* o = out.memptr();
  const float* t = truth.memptr();
  double error = 0.0, norm = 0.0;
  for (std::size_t i = 0; i < truth.n_elem; ++i) {
    const double d = static_cast<double>(o[i]) - static_cast<double>(t[i]);
    error += d * d;
    norm += static_cast<double>(t[i]) * t[i];
  }
  *errorSq = error;
  *normSq = norm;
}

arma::vec Fitted(const arma::fvec& out, const arma::fvec& truth, bool signOutput) {
  arma::vec fitted = arma::conv_to<arma::vec>::from(out);
  if (signOutput) fitted *= BestScale(out, truth);
  return fitted;
}

}  // namespace gradquant
