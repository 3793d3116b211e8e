#include "gradquant/optimize/pooled_fit.hpp"

#include "gradquant/stats/distribution_fit.hpp"

namespace gradquant {

PooledFit FitPooled(const std::vector<arma::fvec>& slabs) {
  std::vector<float> values;
  for (const auto& s : slabs) values.insert(values.end(), s.begin(), s.end());
  const DistributionFit fit = FitZeroLocation(values);
  PooledFit pooled;
  pooled.n = values.size();
  pooled.gamma = fit.laplaceScale;
  pooled.sigma = fit.gaussSigma;
  pooled.meanSquare = fit.gaussSigma * fit.gaussSigma;
  pooled.ksLaplace = fit.ksLaplace;
  pooled.ksGauss = fit.ksGauss;
  return pooled;
}

}  // namespace gradquant
