#include "gradquant/stats/gradient_stats.hpp"

#include <cmath>
#include <limits>

#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/distribution_fit.hpp"

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

double WeightedMean(double sum, double weight) { return weight > 0 ? sum / weight : kNan; }

// Adds a finite value with weight n; NaN values (undefined for this slab) are left out.
void AddWeighted(double value, double n, double& sum, double& weight) {
  if (std::isnan(value)) return;
  sum += n * value;
  weight += n;
}

}  // namespace

GradientSummary GradientSummary::Of(const std::vector<arma::fvec>& slabs) {
  GradientSummary s;
  s.n = slabs.at(0).n_elem;
  s.records = 1;
  s.workers = slabs.size();
  // Five independent statistics, side by side on free threads (each is computed alone, so the
  // result does not depend on the thread count).
  DistributionFit fit{};
  double jaccard = 0.0;
  const std::size_t k = TopKCount(s.n);
  ParallelFor(5, [&](std::size_t part) {
    if (part == 0) {
      std::vector<float> values;
      values.reserve(s.n * slabs.size());
      for (const auto& g : slabs) values.insert(values.end(), g.begin(), g.end());
      fit = FitZeroLocation(values);
    }
    if (part == 1) s.co = CoMoments::Of(slabs);
    if (part == 2) s.sign = SignAgreement::Of(slabs);
    if (part == 3) jaccard = TopKJaccard(slabs, k);
    if (part == 4) {
      arma::vec mean(s.n, arma::fill::zeros);
      for (const auto& g : slabs) {
        s.pooled.Merge(Moments::Of(g.memptr(), g.n_elem));
        for (std::size_t i = 0; i < s.n; ++i) mean[i] += g[i];
      }
      mean /= static_cast<double>(slabs.size());
      s.meanSq = arma::dot(mean, mean);
    }
  });
  const double n = static_cast<double>(s.n);
  AddWeighted(fit.ksLaplace, n, s.ksLaplaceSum, s.ksWeight);
  s.ksGaussSum = std::isnan(fit.ksGauss) ? 0.0 : n * fit.ksGauss;
  s.topkK = static_cast<double>(k);
  AddWeighted(jaccard, n, s.jaccardSum, s.jaccardWeight);
  return s;
}

void GradientSummary::Merge(const GradientSummary& o, bool acrossLayers) {
  if (records == 0) {
    *this = o;
    return;
  }
  if (acrossLayers) {
    n += o.n;
    topkK = kNan;  // K differs between layers
  } else {
    records += o.records;
  }
  pooled.Merge(o.pooled);
  meanSq += o.meanSq;
  co.Merge(o.co);
  sign.Merge(o.sign);
  ksLaplaceSum += o.ksLaplaceSum;
  ksGaussSum += o.ksGaussSum;
  ksWeight += o.ksWeight;
  jaccardSum += o.jaccardSum;
  jaccardWeight += o.jaccardWeight;
}

GradientStats GradientSummary::Finish() const {
  GradientStats s;
  const double slabs = static_cast<double>(workers * records);
  s.norm = slabs > 0 ? std::sqrt(pooled.sumSq / slabs) : kNan;
  s.meanNorm = records > 0 ? std::sqrt(meanSq / static_cast<double>(records)) : kNan;
  s.maxAbs = pooled.maxAbs;
  s.kurtosis = pooled.ExcessKurtosis();
  s.laplaceScale = pooled.LaplaceScale();
  s.gaussSigma = pooled.GaussSigma();
  s.ksLaplace = WeightedMean(ksLaplaceSum, ksWeight);
  s.ksGauss = WeightedMean(ksGaussSum, ksWeight);
  s.corr = co.Pearson();
  const OffDiagonal off = SummarizeOffDiagonal(s.corr);
  s.corrMean = off.mean;
  s.corrMin = off.min;
  s.corrMax = off.max;
  const arma::vec others = co.CorrWithOthers();
  const arma::vec finite = others.elem(arma::find_finite(others));
  s.corrOthers = finite.n_elem ? arma::mean(finite) : kNan;
  s.signAgree = sign.Raw();
  s.signAgreeWeighted = sign.Weighted();
  s.topkK = topkK;
  s.topkJaccard = WeightedMean(jaccardSum, jaccardWeight);
  return s;
}

}  // namespace gradquant
