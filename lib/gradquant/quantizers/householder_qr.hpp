#pragma once
/**
 * @file householder_qr.hpp
 * The orthonormal factor of a reduced Householder QR, written out in plain loops.
 *
 * PowerSGD's P̂ feeds the second-round message, so the encoder and the decoder must compute it
 * bit-identically, and the same command should give the same bytes on every machine. LAPACK's
 * dgeqrf (arma::qr_econ) delegates its inner products to the BLAS, whose kernels sum in an
 * order that depends on the CPU; these loops fix the order. Householder reflections (not
 * Gram–Schmidt) keep the columns orthonormal to rounding even when A is rank deficient
 * (docs/quantizers.md#powersgd).
 */
#include <cstddef>
#include <vector>

namespace gradquant {

/**
 * The n×r factor Q of A = QR (reduced, n >= r), with A and Q row-major: A[i*r + c].
 * Reflector k maps column k of the remaining block to −sign(a_kk)·‖x‖·e_k (sign(0) = +1);
 * a zero column is left alone (the identity), so Q always has orthonormal columns, and the
 * columns of an all-zero A are the first r unit vectors.
 */
std::vector<double> HouseholderQ(std::vector<double> a, std::size_t n, std::size_t r);

}  // namespace gradquant
