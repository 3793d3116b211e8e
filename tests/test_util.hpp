#pragma once
// Shared helpers for the tests: synthetic slabs from the project's own generator, contexts,
// temporary folders and running the real binary.
#include <armadillo>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "gradquant/core/layer_info.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/random/rng.hpp"

namespace gradquant::test {

/** n i.i.d. Laplace(0, scale) values from stream @p seed (deterministic everywhere). */
inline arma::fvec LaplaceSlab(std::size_t n, double scale, std::uint64_t seed) {
  const Rng rng({seed, 0, 0, 0}, Purpose::kTest);
  arma::fvec g(n);
  for (std::size_t i = 0; i < n; ++i) {
    const double u = rng.Uniform(i) - 0.5;  // in [-1/2, 1/2)
    const double mag = -scale * std::log(1.0 - 2.0 * std::fabs(u));
    g[i] = static_cast<float>(u < 0 ? -mag : mag);
  }
  return g;
}

/** Equal bit for bit (so NaN equals NaN, and -0 differs from +0). */
inline bool SameBits(const arma::fvec& a, const arma::fvec& b) {
  return a.n_elem == b.n_elem && std::memcmp(a.memptr(), b.memptr(), a.n_elem * sizeof(float)) == 0;
}

/** Equal bit for bit (so NaN equals NaN). */
inline bool SameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/** n i.i.d. N(0, sigma^2) values from stream @p seed. */
inline arma::fvec GaussianSlab(std::size_t n, double sigma, std::uint64_t seed) {
  const Rng rng({seed, 0, 0, 0}, Purpose::kTest);
  arma::fvec g(n);
  for (std::size_t i = 0; i < n; ++i) g[i] = static_cast<float>(sigma * rng.Normal(i));
  return g;
}

/**
 * n Laplace(0, 1) values (stream @p seed) times 2^round(spread·N(0, 1)) (stream seed + 1):
 * magnitudes over some 2·2.5·spread binades, for casts' range ends (saturation, subnormals).
 */
inline arma::fvec WideRangeSlab(std::size_t n, double spread, std::uint64_t seed) {
  const arma::fvec octaves = arma::round(spread * GaussianSlab(n, 1.0, seed + 1));
  return LaplaceSlab(n, 1.0, seed) % arma::exp2(octaves);
}

/** A layer named @p name with the given shape (index 0 unless set). */
inline LayerInfo Layer(std::vector<std::uint64_t> shape, std::string name = "layer",
                       std::uint32_t index = 0) {
  LayerInfo l;
  l.name = std::move(name);
  l.shape = std::move(shape);
  l.n = 1;
  for (auto d : l.shape) l.n *= d;
  l.index = index;
  return l;
}

/** A context for @p layer at step @p step with @p workers workers. */
inline SlabContext Context(const LayerInfo& layer, std::uint64_t seed, std::uint64_t step = 0,
                           std::uint32_t workers = 1) {
  SlabContext c;
  c.layer = &layer;
  c.seed = seed;
  c.step = step;
  c.workers = workers;
  return c;
}

/** What MonteCarlo measured: mean squared error and the squared norm of the mean error. */
struct MonteCarloError {
  double mse = 0.0;     ///< (1/R) Σ_r ||Q_r(g) − g||²
  double biasSq = 0.0;  ///< ||(1/R) Σ_r (Q_r(g) − g)||², about E||Q − g||²/R if unbiased
};

/**
 * Worker 0's reconstruction of @p g by @p q (encoded alone, decoded from its bytes) under the
 * seeds firstSeed .. firstSeed + runs − 1 at step 0, as a method's Monte Carlo check sums it.
 */
inline MonteCarloError MonteCarlo(const Quantizer& q, const arma::fvec& g, const LayerInfo& layer,
                                  int runs, std::uint64_t firstSeed) {
  arma::vec sum(g.n_elem, arma::fill::zeros);
  MonteCarloError out;
  for (int s = 0; s < runs; ++s) {
    const SlabContext ctx = Context(layer, firstSeed + static_cast<std::uint64_t>(s));
    const arma::fvec r = q.DecodeGroup({q.Encode(g, ctx, nullptr)}, ctx).workers.at(0);
    const arma::vec d = arma::conv_to<arma::vec>::from(r) - arma::conv_to<arma::vec>::from(g);
    sum += d;
    out.mse += arma::accu(arma::square(d));
  }
  out.mse /= runs;
  out.biasSq = arma::accu(arma::square(sum / runs));
  return out;
}

/**
 * The Monte Carlo check of a method that claims to be unbiased with an exact E||Q(g) − g||²
 * (Catch assertions): over @p runs seeds from @p firstSeed, the mean squared error lies within
 * 5 % of ExpectedError's exact value, and the squared norm of the mean error below 1.5 times
 * exact/runs, its expectation when the method is unbiased.
 */
void CheckExactAndUnbiased(const Quantizer& q, const arma::fvec& g, const LayerInfo& layer,
                           int runs, std::uint64_t firstSeed);

/** A fresh, empty folder under the system temp dir, removed when the object goes. */
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gradquant-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/** Sets an environment variable (seen by this process and the binaries it runs) until the
 * object goes, then restores it. */
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    const char* old = std::getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

/** Result of running the gradquant binary. */
struct RunResult {
  int exitCode;
  std::string out;
  std::string err;
};

/**
 * Runs the built gradquant binary with @p args (a shell-quoted string) and captures output;
 * the command in $GRADQUANT_TEST_WRAPPER, if set, is put in front (e.g. valgrind).
 */
RunResult RunGradquant(const std::string& args);

/** Path of a file under the source tree, e.g. SourcePath("data/fmnist_cnn.h5"). */
inline std::string SourcePath(const std::string& rel) {
  return std::string(GRADQUANT_SOURCE_DIR) + "/" + rel;
}

}  // namespace gradquant::test
