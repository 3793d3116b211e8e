#include "gradquant/stats/worker_agreement.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <limits>
#include <numeric>

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
  std::vector<std::size_t> idx(g.n_elem);
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  k = std::min(k, idx.size());
  auto larger = [&](std::size_t a, std::size_t b) {
    const float fa = std::fabs(g[a]), fb = std::fabs(g[b]);
    return fa != fb ? fa > fb : a < b;
  };
  std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), larger);
  idx.resize(k);
  std::sort(idx.begin(), idx.end());
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
