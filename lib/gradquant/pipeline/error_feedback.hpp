#pragma once
/**
 * @file error_feedback.hpp
 * Error feedback around any quantizer Q, one mechanism for every method
 * (docs/quantizers.md#error-feedback). Worker w of a layer, at record t with gradient g_t:
 *
 * | mode      | worker compresses     | worker keeps                | server applies            |
 * |-----------|-----------------------|-----------------------------|---------------------------|
 * | `none`    | x = g_t               | nothing                     | a_t = aggregate of Q(x_w) |
 * | `classic` | x = p_t = g_t + e_t   | e_{t+1} = p_t − Q(p_t)      | a_t = aggregate of Q(p_w) |
 * | `ef21`    | x = g_t − h_t         | h_{t+1} = h_t + Q(x)        | a_t = H_{t+1} = H_t +
 * aggregate of Q(x_w) |
 *
 * with e_0 = h_0 = H_0 = 0 (Seide et al. 2014, Karimireddy et al. 2019; Richtárik et al. 2021).
 * EF21's h_w and H are derived from decoded data only, so the server (and `decompress`) keeps
 * them too; classic's e_w needs the worker's own gradient and lives on the worker.
 *
 * Sign outputs (Quantizer::SignOutput: a direction without magnitude) take the worker's best
 * scalar fit c* = <o, p>/||o||² as Q(p) in e_{t+1}: for sign vectors c* = ||p||₁/d, which is
 * EF-signSGD's scaled sign (Karimireddy et al. 2019). EF21 needs the magnitudes on the server
 * and so refuses sign outputs.
 *
 * Besides the memory, a FeedbackMemory measures what error feedback is for: the accumulated
 * error A_T = Σ_{t ≤ T} (a_t − ḡ_t) of what the server applied against the true worker mean
 * (a_t is its best scalar fit to ḡ_t for sign outputs), which classic feedback keeps equal to
 * −mean_w e_{T+1} when the aggregate is the mean of the reconstructions.
 *
 * Offline the records are the steps, open loop: the recorded gradients do not react to what
 * the server applied.
 */
#include <armadillo>
#include <string>
#include <vector>

#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

/** The error-feedback modes (see the file comment). */
enum class Feedback { kNone, kClassic, kEf21 };

/** Parses "none", "classic" or "ef21". @throws SpecError naming the choices */
Feedback ParseFeedback(const std::string& name);

/** "none", "classic" or "ef21". */
const char* FeedbackName(Feedback mode);

/** @throws SpecError if @p quantizer cannot run under @p mode (ef21 with a sign output). */
void CheckFeedback(Feedback mode, const Quantizer& quantizer);

/** What one record did to the memory, for the reports. */
struct FeedbackStep {
  double residualSq = 0;  ///< Σ_w ||e_t||² (classic) or Σ_w ||g_t − h_t||² (ef21), 0 (none)
  double accErrorSq = 0;  ///< ||A_t||² after this record
  double accMeanNormSq = 0;  ///< Σ_{t' ≤ t} ||ḡ_t'||², the energy A_t is compared with
};

/**
 * One layer's error-feedback memory over the records of a run, for W workers of n coordinates:
 * create it before the layer's first record and pass it to RunRound (round.hpp) record by
 * record, in order. Deterministic: float32 memory updated in worker order.
 */
class FeedbackMemory {
 public:
  /** @throws SpecError as CheckFeedback */
  FeedbackMemory(Feedback mode, const Quantizer& quantizer, std::size_t workers, std::size_t n);

  Feedback Mode() const { return mode_; }

  /** What the workers compress at this record, given their gradients g_w: x_w above. */
  std::vector<arma::fvec> Inputs(const std::vector<arma::fvec>& gradients) const;
  /** Worker @p w's x_w alone (a training loop's rank holds one worker). */
  arma::fvec Input(std::size_t w, const arma::fvec& gradient) const;

  /** Σ_w ||e_w||² (classic) or Σ_w ||x_w||² (ef21, given Inputs) entering this record. */
  double ResidualSq(const std::vector<arma::fvec>& inputs) const;

  /**
   * The worker's side after its message was decoded (classic): e_w = x_w − Q(x_w), with
   * @p inputs from Inputs and @p decoded the server's decode of the messages. Nothing for the
   * other modes (EF21's h_w follows from decoded data: UpdateServer).
   */
  void UpdateWorkers(const std::vector<arma::fvec>& inputs, const GroupResult& decoded);
  /** Worker @p w's part of UpdateWorkers, with its own x_w and decoded Q(x_w). */
  void UpdateWorker(std::size_t w, const arma::fvec& input, const arma::fvec& decoded);

  /**
   * The side both ends derive from decoded data (ef21): h_w += Q(x_w), H += aggregate, and
   * @p decoded becomes what the server then holds: worker w's h_w and the aggregate H, which
   * it applies. Nothing for none and classic (the aggregate is what is applied).
   */
  void UpdateServer(GroupResult& decoded);

  /** Adds a_t − ḡ_t to A (a_t the aggregate of @p applied) and returns the record's numbers. */
  FeedbackStep Account(const arma::fvec& applied, const arma::fvec& trueMean, double residualSq);

  /** A_T so far (double). */
  const arma::vec& Accumulated() const { return accumulated_; }
  /** e_w (classic) or h_w (ef21); empty for none. */
  const std::vector<arma::fvec>& WorkerMemory() const { return memory_; }

 private:
  Feedback mode_;
  bool signOutput_;
  std::vector<arma::fvec> memory_;  // e_w or h_w
  arma::fvec server_;               // ef21: H
  arma::vec accumulated_;           // A
  double accMeanNormSq_ = 0;
};

}  // namespace gradquant
