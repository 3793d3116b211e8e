#pragma once
/**
 * @file error_metrics.hpp
 * How far a reconstruction is from the truth, in double precision
 * (docs/quantizers.md#error-metrics).
 *
 * Sign-like outputs (votes, sign vectors: Quantizer::SignOutput()) carry a direction without a
 * magnitude. Their error is that of the best scalar fit c* o with c* = <o, g>/||o||^2
 * (docs/quantizers.md#best-scalar-fit):
 * \f[ \|c^* o - g\|^2 = \|g\|^2 - \langle o, g\rangle^2/\|o\|^2 . \f]
 * compress and analyze both measure error through FitErrorSq, so their numbers agree.
 */
#include <armadillo>

namespace gradquant {

/** ||a||^2, accumulated in double. */
double SquaredNorm(const arma::fvec& a);

/** <a, b>, accumulated in double. @pre equal sizes */
double Dot(const arma::fvec& a, const arma::fvec& b);

/** ||a - b||^2, accumulated in double. @pre equal sizes */
double SquaredDistance(const arma::fvec& a, const arma::fvec& b);

/**
 * cos(a, b) = <a, b>/(||a|| ||b||). By convention 0 when exactly one of them is zero (an output
 * that says nothing about the truth) and NaN when both are.
 */
double Cosine(const arma::fvec& a, const arma::fvec& b);

/** The best scalar fit c* = <out, truth>/||out||^2 (0 for an all-zero output). */
double BestScale(const arma::fvec& out, const arma::fvec& truth);

/**
 * ||out - truth||^2, or for sign outputs the error of the best scalar fit,
 * max(0, ||truth||^2 - <out, truth>^2/||out||^2) (||truth||^2 if out = 0).
 */
double FitErrorSq(const arma::fvec& out, const arma::fvec& truth, bool signOutput);

/**
 * FitErrorSq(out, truth, signOutput) and SquaredNorm(truth), bit for bit, in one pass over the
 * data where the output is not sign-like.
 */
void FitErrorAndNormSq(const arma::fvec& out, const arma::fvec& truth, bool signOutput,
                       double* errorSq, double* normSq);

/** The vector whose error FitErrorSq measures: @p out itself, or c* out for sign outputs. */
arma::vec Fitted(const arma::fvec& out, const arma::fvec& truth, bool signOutput);

}  // namespace gradquant
