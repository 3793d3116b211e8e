#include "gradquant/stats/confidence.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

namespace gradquant {
namespace {

constexpr double kT975[30] = {12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912,
                              2.364624,  2.306004, 2.262157, 2.228139, 2.200985, 2.178813,
                              2.160369,  2.144787, 2.131450, 2.119905, 2.109816, 2.100922,
                              2.093024,  2.085963, 2.079614, 2.073873, 2.068658, 2.063899,
                              2.059539,  2.055529, 2.051831, 2.048407, 2.045230, 2.042272};

}  // namespace

double StudentT975(std::size_t df) {
  if (df == 0) throw std::invalid_argument("StudentT975: df must be >= 1");
  if (df <= 30) return kT975[df - 1];
  const double z = 1.959963984540054, v = static_cast<double>(df);
  const double z2 = z * z, z3 = z2 * z, z5 = z3 * z2, z7 = z5 * z2;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v);
}

MeanCi MeanWithCi(const std::vector<double>& values) {
  constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
  if (values.empty()) return {kNan, kNan};
  const double r = static_cast<double>(values.size());
  double sum = 0.0;
  for (double v : values) sum += v;
  const double mean = sum / r;
  if (values.size() < 2) return {mean, kNan};
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / (r - 1.0));
  return {mean, StudentT975(values.size() - 1) * sd / std::sqrt(r)};
}

}  // namespace gradquant
