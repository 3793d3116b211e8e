#pragma once
/**
 * @file stat_names.hpp
 * The SlabStats keys that other code reads, declared once. A method's other keys are its own
 * report columns and are named only where the method sets them.
 */
namespace gradquant::stat {

/** Ideal size of one message: order-0 entropy of its symbols plus its side bits. */
inline constexpr const char* kBitsEntropy = "bits_entropy";
/** NDQSG: the predicted fraction of overloaded coordinates (read by the frontier search). */
inline constexpr const char* kOverloadPred = "overload_pred";

}  // namespace gradquant::stat
