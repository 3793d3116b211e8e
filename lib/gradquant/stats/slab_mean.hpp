#pragma once
/**
 * @file slab_mean.hpp
 * The element-wise mean of the workers' slabs, the plain server aggregate: summed in double in
 * worker order, so it does not depend on the thread count.
 */
#include <armadillo>
#include <vector>

namespace gradquant {

/** The element-wise mean of equally sized slabs, summed in double in slab order. */
arma::fvec MeanOf(const std::vector<arma::fvec>& slabs);

/**
 * The same sum divided by the slab count (MeanOf multiplies by its inverse): what
 * `sum += conv_to<vec>(slab)` then `conv_to<fvec>(sum / W)` gives, without the temporaries.
 */
arma::fvec MeanByDivision(const std::vector<arma::fvec>& slabs);

}  // namespace gradquant
