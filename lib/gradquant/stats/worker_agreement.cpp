#include "gradquant/stats/worker_agreement.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

bool Positive(double x) { return x >= 0.0; }

}  // namespace

SignAgreement SignAgreement::Of(const std::vector<arma::fvec>& slabs) {
  SignAgreement s;
  const std::size_t n = slabs.at(0).n_elem;
  for (std::size_t i = 0; i < n; ++i) {
    double mean = 0.0;
    for (const auto& g : slabs) mean += g[i];
    mean /= static_cast<double>(slabs.size());
    const double weight = std::fabs(mean);
    for (const auto& g : slabs) {
      const bool agree = Positive(g[i]) == Positive(mean);
      s.agree += agree;
      s.weightedAgree += agree ? weight : 0.0;
      s.weight += weight;
    }
    s.pairs += static_cast<double>(slabs.size());
  }
  return s;
}

void SignAgreement::Merge(const SignAgreement& o) {
  agree += o.agree;
  pairs += o.pairs;
  weightedAgree += o.weightedAgree;
  weight += o.weight;
}

double SignAgreement::Raw() const { return pairs > 0 ? agree / pairs : kNan; }

double SignAgreement::Weighted() const { return weight > 0 ? weightedAgree / weight : kNan; }

std::size_t TopKCount(std::size_t n) {
  return n == 0 ? 0 : std::max<std::size_t>(1, (n + 99) / 100);
}

std::vector<std::size_t> LargestMagnitudes(const arma::fvec& g, std::size_t k) {
  const std::size_t n = g.n_elem;
  k = std::min(k, n);
  std::vector<std::size_t> idx;
  if (k == 0) return idx;
  // The K-th largest magnitude t: every |g_i| > t is in, and the lowest-index |g_i| = t fill
  // the rest.
  std::vector<float> magnitude(n);
  for (std::size_t i = 0; i < n; ++i) magnitude[i] = std::fabs(g[i]);
  const auto kth = magnitude.begin() + static_cast<std::ptrdiff_t>(k - 1);
  std::nth_element(magnitude.begin(), kth, magnitude.end(), std::greater<float>());
  const float t = *kth;
  std::size_t ties = k - static_cast<std::size_t>(
                             std::count_if(magnitude.begin(), kth, [t](float m) { return m > t; }));
  idx.reserve(k);
  for (std::size_t i = 0; i < n; ++i) {
    const float m = std::fabs(g[i]);
    if (m > t) {
      idx.push_back(i);
    } else if (m == t && ties > 0) {
      idx.push_back(i);
      --ties;
    }
  }
  return idx;
}

double TopKJaccard(const std::vector<arma::fvec>& slabs, std::size_t k) {
  if (slabs.size() < 2 || k == 0) return kNan;
  std::vector<std::vector<std::size_t>> sets;
  for (const auto& g : slabs) sets.push_back(LargestMagnitudes(g, k));
  double sum = 0.0;
  std::size_t pairs = 0;
  for (std::size_t a = 0; a < sets.size(); ++a) {
    for (std::size_t b = a + 1; b < sets.size(); ++b) {
      std::vector<std::size_t> common;
      std::set_intersection(sets[a].begin(), sets[a].end(), sets[b].begin(), sets[b].end(),
                            std::back_inserter(common));
      const double inter = static_cast<double>(common.size());
      sum += inter / (static_cast<double>(sets[a].size() + sets[b].size()) - inter);
      ++pairs;
    }
  }
  return sum / static_cast<double>(pairs);
}

}  // namespace gradquant
