#include "gradquant/optimize/frontier.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {
namespace {

struct Candidate {
  std::string spec;
  RateDistortion rd;
};

// Runs specs on the slab set once each (by canonical spec) and counts runs per family.
class Evaluator {
 public:
  Evaluator(const SlabSet& set, const FrontierOptions& options) : set_(set), options_(options) {}

  const Candidate& Run(const std::string& text) {
    const auto quantizer = BuiltinRegistry().Make(text);
    const std::string spec = quantizer->Spec();
    auto it = cache_.find(spec);
    if (it == cache_.end()) {
      it = cache_
               .emplace(spec, Candidate{spec, Evaluate(set_, *quantizer, options_.seed,
                                                       options_.feedback)})
               .first;
      ++runs_[ParseSpec(spec).name];
    }
    return it->second;
  }

  std::size_t Runs(const std::string& family) const {
    const auto it = runs_.find(family);
    return it == runs_.end() ? 0 : it->second;
  }

  const SlabSet& Set() const { return set_; }
  const FrontierOptions& Options() const { return options_; }

 private:
  const SlabSet& set_;
  const FrontierOptions& options_;
  std::map<std::string, Candidate> cache_;
  std::map<std::string, std::size_t> runs_;
};

std::string Real(double x) { return FormatReal(x); }

// The search of one family at one budget: keeps the best candidate that fits and the cheapest.
class FamilySearch {
 public:
  using Extra = std::function<bool(const RateDistortion&)>;

  FamilySearch(Evaluator& ev, double budget) : ev_(ev), budget_(budget) {}

  /** An extra acceptance test besides the budget (NDQSG's overload tolerance). */
  void SetExtra(Extra extra, std::string failure) {
    extra_ = std::move(extra);
    extraFailure_ = std::move(failure);
  }

  /** Evaluates @p spec, records it, and says whether it is acceptable. */
  bool Try(const std::string& spec) {
    const Candidate& c = ev_.Run(spec);
    const bool withinBudget = static_cast<double>(c.rd.bits) <= budget_ * c.rd.coords;
    lastWithinBudget_ = withinBudget;
    const bool accepted = withinBudget && (!extra_ || extra_(c.rd));
    if (!cheapest_ || c.rd.bits < cheapest_->rd.bits) cheapest_ = &c;
    if (withinBudget && !accepted) extraFailed_ = true;
    if (accepted && (!best_ || Better(c, *best_))) best_ = &c;
    return accepted;
  }

  /**
   * The largest p in [lo, hi] whose spec is acceptable: exponential search from lo, then
   * bisection. @return false if even lo is not acceptable.
   */
  bool Largest(const std::function<std::string(std::int64_t)>& spec, std::int64_t lo,
               std::int64_t hi) {
    if (!Try(spec(lo))) return false;
    std::int64_t good = lo, bad = -1;
    while (good < hi) {
      const std::int64_t next = std::min(hi, std::max(good + 1, 2 * good));
      if (Try(spec(next))) {
        good = next;
      } else {
        bad = next;
        break;
      }
    }
    if (bad < 0) return true;
    while (bad - good > 1) {
      const std::int64_t mid = good + (bad - good) / 2;
      (Try(spec(mid)) ? good : bad) = mid;
    }
    return true;
  }

  /** Whether the last spec tried fits the budget (acceptable or not). */
  bool LastWithinBudget() const { return lastWithinBudget_; }

  FrontierEntry Result(const std::string& family, const std::string& searched) const {
    FrontierEntry e;
    e.budget = budget_;
    e.family = family;
    e.searched = searched;
    e.evaluations = ev_.Runs(family);
    e.feasible = best_ != nullptr;
    const Candidate* shown = best_ ? best_ : cheapest_;
    if (shown) {
      e.spec = shown->spec;
      e.result = shown->rd;
    }
    if (!best_ && cheapest_) {
      std::ostringstream why;
      if (extraFailed_) {
        why << extraFailure_;
      } else {
        why << "cheapest setting " << cheapest_->spec << " needs " << cheapest_->rd.BitsPerCoord()
            << " bits/coord";
      }
      e.reason = why.str();
    }
    return e;
  }

 private:
  static double Key(const RateDistortion& rd) {
    const double agg = rd.AggNmse();
    return std::isnan(agg) ? rd.Nmse() : agg;
  }
  static bool Better(const Candidate& a, const Candidate& b) {
    const double ka = Key(a.rd), kb = Key(b.rd);
    if (ka != kb) return ka < kb;
    return a.rd.bits < b.rd.bits;
  }

  Evaluator& ev_;
  double budget_;
  bool lastWithinBudget_ = false;
  Extra extra_;
  std::string extraFailure_;
  bool extraFailed_ = false;
  const Candidate* best_ = nullptr;
  const Candidate* cheapest_ = nullptr;
};

using Search = std::function<std::string(FamilySearch&, Evaluator&)>;

std::string Grid(FamilySearch& f, const std::vector<std::string>& specs) {
  for (const auto& s : specs) f.Try(s);
  return "grid of " + std::to_string(specs.size());
}

std::int64_t MaxRank(const SlabSet& set) {
  std::int64_t best = 1;
  for (const auto& l : set.layers) {
    if (l.shape.empty() || l.shape[0] == 0) continue;
    const std::uint64_t rows = l.shape[0], cols = l.n / rows;
    best = std::max<std::int64_t>(best, static_cast<std::int64_t>(std::min(rows, cols)));
  }
  return best;
}

const std::vector<std::pair<std::string, Search>>& Searches() {
  static const std::vector<std::pair<std::string, Search>> table = {
      {"dqsg",
       [](FamilySearch& f, Evaluator&) {
         f.Largest([](std::int64_t s) { return "dqsg:s=" + std::to_string(s); }, 1, 1 << 20);
         return std::string("largest s in [1, 2^20]");
       }},
      {"ndqsg",
       [](FamilySearch& f, Evaluator& ev) {
         const double tol = ev.Options().overloadTolerance;
         f.SetExtra([tol](const RateDistortion& rd) { return !(rd.overloadPred > tol); },
                    "overload_pred above " + Real(tol) + " at s=1 for every rho within budget");
         for (int m = 1; m <= 16; ++m) {
           const std::string rho = "ndqsg:rho=" + std::to_string(1 << m) + ",s=";
           f.Try(rho + "1");
           if (!f.LastWithinBudget()) break;  // a larger rho costs more at every s
           f.Largest([&](std::int64_t s) { return rho + std::to_string(s); }, 1, 1 << 20);
         }
         return "rho = 2^m x largest s with overload_pred <= " + Real(tol);
       }},
      {"qsgd",
       [](FamilySearch& f, Evaluator&) {
         for (const char* bucket : {"0", "512"}) {
           f.Largest(
               [&](std::int64_t s) {
                 return "qsgd:bucket=" + std::string(bucket) + ",s=" + std::to_string(s);
               },
               1, 1 << 20);
         }
         return std::string("bucket {0,512} x largest s in [1, 2^20]");
       }},
      {"tnq",
       [](FamilySearch& f, Evaluator&) {
         f.Largest([](std::int64_t b) { return "tnq:bits=" + std::to_string(b); }, 1, 16);
         return std::string("largest bits in [1, 16]");
       }},
      {"eden",
       [](FamilySearch& f, Evaluator&) {
         // Bits grow with b, error falls; the unbiased scale (the paper's) is searched.
         f.Largest([](std::int64_t b) { return "eden:bits=" + std::to_string(b); }, 1, 8);
         return std::string("largest bits in [1, 8]");
       }},
      {"terngrad",
       [](FamilySearch& f, Evaluator&) {
         // Buckets 0 (whole slab), 2^12, ..., 2^2: bits grow and error falls along the list.
         for (const char* packing : {"2bit", "base3"}) {
           f.Largest(
               [&](std::int64_t i) {
                 const std::int64_t bucket = i == 0 ? 0 : std::int64_t{1} << (13 - i);
                 return "terngrad:bucket=" + std::to_string(bucket) + ",packing=" + packing;
               },
               0, 11);
         }
         return std::string("smallest bucket in {0, 2^12..2^2} x packing {2bit,base3}");
       }},
      {"s3gdmv",
       [](FamilySearch& f, Evaluator&) {
         std::vector<std::string> specs;
         for (double k : {0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0}) {
           specs.push_back("s3gdmv:kappa=" + Real(k));
         }
         return Grid(f, specs) + ": kappa";
       }},
      {"topk",
       [](FamilySearch& f, Evaluator&) {
         f.Largest([](std::int64_t j) { return "topk:kappa=" + Real(j / 1e4); }, 1, 10000);
         return std::string("largest kappa = j/10^4");
       }},
      {"randk",
       [](FamilySearch& f, Evaluator&) {
         f.Largest([](std::int64_t j) { return "randk:kappa=" + Real(j / 1e4); }, 1, 10000);
         return std::string("largest kappa = j/10^4");
       }},
      {"powersgd",
       [](FamilySearch& f, Evaluator& ev) {
         const std::int64_t top = MaxRank(ev.Set());
         f.Largest([](std::int64_t r) { return "powersgd:rank=" + std::to_string(r); }, 1, top);
         return "largest rank in [1, " + std::to_string(top) + "]";
       }},
      {"gradiveq",
       [](FamilySearch& f, Evaluator&) {
         std::vector<std::string> specs;
         for (const char* layers : {"conv", "all"}) {
           for (double l : {0.3, 0.1, 0.05, 0.02, 0.01, 0.005, 0.001}) {
             specs.push_back("gradiveq:lambda=" + Real(l) + ",layers=" + layers);
           }
         }
         return Grid(f, specs) + ": lambda x layers {conv,all}";
       }},
  };
  return table;
}

// A method without a search of its own is tried at its default spec: it fits or it does not.
Search DefaultSearch(const std::string& name) {
  return [name](FamilySearch& f, Evaluator&) { return Grid(f, {name}); };
}

// The search of @p family: its own, or the default one for a registered method; null if unknown.
const Search* SearchOf(const std::string& family) {
  static const std::vector<std::pair<std::string, Search>> defaults = [] {
    std::vector<std::pair<std::string, Search>> out;
    for (const std::string& name : BuiltinRegistry().Names())
      out.emplace_back(name, DefaultSearch(name));
    return out;
  }();
  for (const auto* table : {&Searches(), &defaults}) {
    const auto it = std::find_if(table->begin(), table->end(),
                                 [&](const auto& entry) { return entry.first == family; });
    if (it != table->end()) return &it->second;
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> FrontierFamilies() {
  std::vector<std::string> names;
  for (const auto& [name, search] : Searches()) names.push_back(name);
  // Every registered method takes part: those without a search of their own, at their default.
  for (const std::string& name : BuiltinRegistry().Names()) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

std::vector<FrontierEntry> SearchFrontier(const SlabSet& set, const std::vector<double>& budgets,
                                          const std::vector<std::string>& families,
                                          const FrontierOptions& options) {
  std::vector<const Search*> searches;
  for (const auto& family : families) {
    const Search* search = SearchOf(family);
    if (!search) {
      throw SpecError("unknown family '" + family + "' (known: " + [] {
        std::string all;
        for (const auto& n : FrontierFamilies()) all += (all.empty() ? "" : ", ") + n;
        return all;
      }() + ")");
    }
    searches.push_back(search);
  }
  for (double b : budgets) {
    if (!(b > 0) || !std::isfinite(b))
      throw SpecError("budget " + Real(b) + " is not a positive number");
  }
  Evaluator ev(set, options);
  std::vector<FrontierEntry> out;
  for (double budget : budgets) {
    for (std::size_t i = 0; i < families.size(); ++i) {
      if (options.feedback) {
        try {
          CheckFeedback(*options.feedback, *BuiltinRegistry().Make(families[i]));
        } catch (const SpecError& e) {
          FrontierEntry skipped;
          skipped.budget = budget;
          skipped.family = families[i];
          skipped.reason = e.what();
          skipped.searched =
              "nothing (error feedback " + std::string(FeedbackName(*options.feedback)) + ")";
          out.push_back(skipped);
          continue;
        }
      }
      FamilySearch f(ev, budget);
      const std::string searched = (*searches[i])(f, ev);
      out.push_back(f.Result(families[i], searched));
    }
  }
  // Evaluation counts are final only now (the cache spans budgets).
  for (auto& e : out) {
    e.evaluations = ev.Runs(e.family);
    if (!e.feasible) continue;
    e.rank = 1;
    for (const auto& other : out) {
      const bool better =
          other.feasible && other.budget == e.budget && other.result.AggNmse() < e.result.AggNmse();
      e.rank += better ? 1 : 0;
    }
  }
  return out;
}

}  // namespace gradquant
