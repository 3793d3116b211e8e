#include "optimize_tables.hpp"

#include <limits>

#include "cli_common.hpp"

namespace gradquant::cli {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

Report ThresholdReport(const SlabSet& set, const std::vector<std::size_t>& recordIndex,
                       const std::vector<std::uint32_t>& bits, const TnqTrials& base,
                       const ThresholdOptions& opts) {
  Report report({"layer",
                 "record",
                 "step",
                 "bits",
                 "n",
                 "gamma",
                 "sigma",
                 "ks_laplace",
                 "ks_gauss",
                 "alpha_closed",
                 "alpha_gauss",
                 "alpha_empirical_pdf",
                 "alpha_search",
                 "nmse_closed",
                 "nmse_gauss",
                 "nmse_empirical_pdf",
                 "nmse_search",
                 "nmse_auto",
                 "nmse_predicted_closed",
                 "nmse_predicted_gauss",
                 "nmse_predicted_empirical_pdf",
                 "nmse_predicted_search",
                 "trunc_closed",
                 "quant_closed",
                 "trunc_gauss",
                 "quant_gauss",
                 "trunc_empirical_pdf",
                 "quant_empirical_pdf",
                 "trunc_search",
                 "quant_search",
                 "search_evals"});
  const Progress progress = ProgressLine("optimize thresholds");
  const std::size_t total = set.layers.size() * set.steps.size() * bits.size();
  std::size_t done = 0;
  for (std::size_t li = 0; li < set.layers.size(); ++li) {
    for (std::size_t ri = 0; ri < set.steps.size(); ++ri) {
      const std::vector<arma::fvec> slabs = set.Read(li, ri);  // one item in memory at a time
      TnqTrials where = base;
      where.layer = &set.layers[li];
      where.step = set.steps[ri];
      for (std::uint32_t b : bits) {
        const ThresholdRow r = AnalyzeThresholds(slabs, where, b, opts);
        const ThresholdPoint* points[] = {&r.closed, &r.gauss, &r.empiricalPdf, &r.search};
        std::vector<double> numbers = {r.fit.gamma, r.fit.sigma, r.fit.ksLaplace, r.fit.ksGauss};
        for (const auto* p : points) numbers.push_back(p->alpha);
        for (const auto* p : points) numbers.push_back(p->measured.nmse);
        numbers.push_back(r.automatic.nmse);
        for (const auto* p : points) numbers.push_back(p->predicted);
        for (const auto* p : points) {
          numbers.push_back(p->measured.trunc);
          numbers.push_back(p->measured.quant);
        }
        std::vector<Cell> cells(5 + numbers.size() + 1);
        cells[0] = set.layers[li].name;
        cells[1] = std::uint64_t{recordIndex[ri]};
        cells[2] = set.steps[ri];
        cells[3] = std::uint64_t{b};
        cells[4] = std::uint64_t{r.fit.n};
        for (std::size_t i = 0; i < numbers.size(); ++i) cells[5 + i] = numbers[i];
        cells.back() = std::uint64_t{r.evaluations};
        report.Row(cells);
        if (progress) progress(++done, total);
      }
    }
  }
  return report;
}

Report CurveReport(const SlabSet& set, std::size_t recordIndex, std::uint32_t bits,
                   const TnqTrials& where, const ThresholdOptions& opts, std::size_t points) {
  Report report({"layer", "record", "bits", "point", "alpha", "alpha_over_closed", "nmse", "trunc",
                 "quant", "nmse_predicted"});
  const std::vector<arma::fvec> slabs = set.Read(0, 0);
  const ThresholdRow r = AnalyzeThresholds(slabs, where, bits, opts);
  auto add = [&](const std::string& kind, const ThresholdPoint& p) {
    report.Row({set.layers[0].name, std::uint64_t{recordIndex}, std::uint64_t{bits}, kind, p.alpha,
                p.alpha / r.closed.alpha, p.measured.nmse, p.measured.trunc, p.measured.quant,
                p.predicted});
  };
  for (const auto& p : ThresholdCurve(slabs, where, bits, opts, points)) add("grid", p);
  add("closed", r.closed);
  add("gauss", r.gauss);
  add("empirical_pdf", r.empiricalPdf);
  add("search", r.search);
  return report;
}

Report FrontierReport(const SlabSet& set, const std::vector<double>& budgets,
                      const std::vector<std::string>& families, const FrontierOptions& opts) {
  Report report({"budget", "family", "feasible", "rank", "spec", "bits_per_coord", "nmse",
                 "agg_nmse", "acc_nmse", "downlink_bits_per_coord", "overload_pred", "evaluations",
                 "searched", "reason"});
  for (const auto& e : SearchFrontier(set, budgets, families, opts)) {
    const RateDistortion& rd = e.result;
    const bool ok = e.feasible;  // an infeasible row shows no spec and no numbers
    report.Row({e.budget, e.family, std::string(ok ? "yes" : "no"),
                ok ? Cell{std::uint64_t{e.rank}} : Cell{kNan}, ok ? e.spec : std::string(),
                ok ? rd.BitsPerCoord() : kNan, ok ? rd.Nmse() : kNan, ok ? rd.AggNmse() : kNan,
                ok ? rd.AccNmse() : kNan,
                ok ? static_cast<double>(rd.downlinkBits) / rd.coords : kNan,
                ok ? rd.overloadPred : kNan, std::uint64_t{e.evaluations}, e.searched, e.reason});
  }
  return report;
}

}  // namespace gradquant::cli
