#include "gradquant/pipeline/error_feedback.hpp"

#include "gradquant/core/error.hpp"
#include "gradquant/core/parallel.hpp"
#include "gradquant/stats/error_metrics.hpp"

namespace gradquant {

Feedback ParseFeedback(const std::string& name) {
  if (name == "none") return Feedback::kNone;
  if (name == "classic") return Feedback::kClassic;
  if (name == "ef21") return Feedback::kEf21;
  throw SpecError("error feedback '" + name + "': expected none, classic or ef21");
}

const char* FeedbackName(Feedback mode) {
  switch (mode) {
    case Feedback::kClassic:
      return "classic";
    case Feedback::kEf21:
      return "ef21";
    case Feedback::kNone:
      break;
  }
  return "none";
}

void CheckFeedback(Feedback mode, const Quantizer& quantizer) {
  if (mode == Feedback::kEf21 && quantizer.SignOutput()) {
    throw SpecError(quantizer.Spec() +
                    ": ef21 adds the decoded messages' magnitudes, which a sign output does not "
                    "carry (use classic, or a scaled method such as scaledsign)");
  }
}

FeedbackMemory::FeedbackMemory(Feedback mode, const Quantizer& quantizer, std::size_t workers,
                               std::size_t n)
    : mode_(mode), signOutput_(quantizer.SignOutput()), accumulated_(n, arma::fill::zeros) {
  CheckFeedback(mode, quantizer);
  if (mode != Feedback::kNone) memory_.assign(workers, arma::fvec(n, arma::fill::zeros));
  if (mode == Feedback::kEf21) server_.zeros(n);
}

std::vector<arma::fvec> FeedbackMemory::Inputs(const std::vector<arma::fvec>& g) const {
  if (mode_ == Feedback::kNone) return g;
  std::vector<arma::fvec> x(g.size());
  ParallelFor(g.size(), [&](std::size_t w) { x[w] = Input(w, g[w]); });
  return x;
}

arma::fvec FeedbackMemory::Input(std::size_t w, const arma::fvec& g) const {
  switch (mode_) {
    case Feedback::kClassic:
      return g + memory_.at(w);
    case Feedback::kEf21:
      return g - memory_.at(w);
    case Feedback::kNone:
      break;
  }
  return g;
}

double FeedbackMemory::ResidualSq(const std::vector<arma::fvec>& inputs) const {
  if (mode_ == Feedback::kNone) return 0.0;
  const std::vector<arma::fvec>& of = mode_ == Feedback::kClassic ? memory_ : inputs;
  std::vector<double> perWorker(of.size());
  ParallelFor(of.size(), [&](std::size_t w) { perWorker[w] = SquaredNorm(of[w]); });
  double sum = 0.0;
  for (double v : perWorker) sum += v;  // worker order
  return sum;
}

void FeedbackMemory::UpdateWorkers(const std::vector<arma::fvec>& inputs,
                                   const GroupResult& decoded) {
  if (mode_ != Feedback::kClassic) return;
  ParallelFor(memory_.size(),
              [&](std::size_t w) { UpdateWorker(w, inputs[w], decoded.workers[w]); });
}

void FeedbackMemory::UpdateWorker(std::size_t w, const arma::fvec& input, const arma::fvec& q) {
  if (mode_ != Feedback::kClassic) return;
  if (signOutput_) {
    // The worker's own scale of its direction: ||p||₁/d for a sign vector (EF-signSGD).
    const float c = static_cast<float>(BestScale(q, input));
    memory_.at(w) = input - c * q;
  } else {
    memory_.at(w) = input - q;
  }
}

void FeedbackMemory::UpdateServer(GroupResult& decoded) {
  if (mode_ != Feedback::kEf21) return;
  ParallelFor(memory_.size(), [&](std::size_t w) {
    memory_[w] += decoded.workers[w];
    decoded.workers[w] = memory_[w];
  });
  server_ += decoded.aggregate;
  decoded.aggregate = server_;
}

FeedbackStep FeedbackMemory::Account(const arma::fvec& applied, const arma::fvec& trueMean,
                                     double residualSq) {
  accumulated_ += Fitted(applied, trueMean, signOutput_) - arma::conv_to<arma::vec>::from(trueMean);
  accMeanNormSq_ += SquaredNorm(trueMean);
  FeedbackStep step;
  step.residualSq = residualSq;
  step.accErrorSq = arma::dot(accumulated_, accumulated_);
  step.accMeanNormSq = accMeanNormSq_;
  return step;
}

}  // namespace gradquant
