#pragma once
/**
 * @file gradiveq.hpp
 * `gradiveq`: PCA vector quantization whose compression commutes with summation.
 *
 * M. Yu, Z. Lin, K. Narra, S. Li, Y. Li, N. S. Kim, A. Schwing, M. Annavaram, S. Avestimehr,
 * "GradiVeQ: Vector Quantization for Bandwidth-Efficient Gradient Aggregation in Distributed CNN
 * Training", NeurIPS 2018 (arXiv:1811.03617); docs/quantizers.md#gradiveq.
 *
 * Each compressed layer is cut into M slices g_{n,m} of K entries (gradiveq_basis.hpp). Worker n
 * sends \f$g'_{n,m} = U_d^T(g_{n,m} − μ/N)\f$ (eq. 3); the server adds the coefficients in the
 * compressed domain, \f$\sum_n g'_{n,m} = U_d^T(g_m − μ)\f$ with g_m the sum over workers
 * (eq. 4), and decodes once, \f$\hat g_m = U_d g'_m + μ\f$ (eq. 5); the aggregate (the mean) is
 * \f$\hat g_m / N\f$. Per worker, for reports: \f$U_d g'_{n,m} + μ/N\f$. The error is
 * deterministic and biased: \f$\|(I − U_dU_d^T)(g_m − μ)\|^2\f$ for the sum, and
 * \f$\|g_n − (U_dU_d^T(g_n − μ/N) + μ/N)\|^2\f$ per worker (the local loss, eq. 7).
 *
 * Offline adaptation (our reading of the paper's sampling iterations for recorded gradients): the
 * first `fit` records of a layer are the paper's uncompressed sampling iterations. The aggregate of
 * those records is known to every node, so both sides fit μ and U_d (d by eq. 6 at energy loss
 * `lambda`) from the aggregated (worker-summed) gradient of the fit records, using every slice of
 * the layer of every fit record as one sample (one compressor per layer, the paper's reuse factor s
 * = ∞, one μ per layer). The basis costs 0 bits. It lives in the layer's LayerState; without state
 * (a caller that keeps none) every record is treated as a fit record.
 *
 * Bit layout (MSB-first):
 * - fit records, layers not compressed (not 4-D with layers=conv; K <= 1 or fewer than 2
 *   slices), or no state: the n values as float32 in the layer's own order, 32·n bits;
 * - compressed records: for m = 0..M−1, the d coefficients of slice m as float32,
 *   32·d·M bits with M = ⌈n/K⌉. The downlink carries the summed coefficients, 32·d·M bits
 *   (32·n for float32 records).
 * No header: both sides know from (state, step) whether a record is compressed, and d.
 * Not in the paper's setting here: no QSGD on the sampling records (they are float32),
 * no periodic refit (one fit per run), no compressor reuse factor s < ∞. The fit samples take
 * 8·n·fit bytes per layer until the fit; the thin SVD is of a K × (M·fit) matrix.
 *
 * Stats: `compressed` (1 on a compressed record, so its mean is the compressed fraction); once
 * fitted (Diagnose, reported from the record that completes the fit on): `d`,
 * `retained_energy` (c_d/T on the fit samples, >= 1 − lambda), `commute_residual`
 * (‖Σ_n Q(g_n) − Q(Σ_n g_n)‖/‖Q(Σ g)‖ over the float32 coefficients, 0 on float32 records), and
 * on compressed records `local_nmse` (eq. 7 summed over workers, over Σ‖g_n‖²) and
 * `lost_energy` (‖ĝ − g‖²/‖g − μ‖² of the sum: the eq. 6 loss on a record it was not fitted to).
 */
#include <cstdint>
#include <vector>

#include "gradquant/quantizers/gradiveq_basis.hpp"
#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/quantizers/spec.hpp"

namespace gradquant {

/** A layer's GradiVeQ state: the fit samples until the basis is fitted, then the basis. */
struct GradiveqState : public LayerState {
  SliceLayout layout;
  std::vector<std::uint64_t> fitSteps;  ///< steps of the records used for the fit
  arma::mat samples;                    ///< K × (M·fit) summed slices, freed after the fit
  PcaBasis basis;
  bool fitted = false;  ///< the basis is ready (later records are compressed)
  bool failed = false;  ///< the fit failed; the layer stays float32

  /** True if the record at @p step is (or was) sent compressed. */
  bool CompressesStep(std::uint64_t step) const;
};

/** PCA vector quantization with compressed-domain summation. */
class GradiveqQuantizer : public Quantizer {
 public:
  explicit GradiveqQuantizer(Params& params);
  std::string Spec() const override { return spec_; }
  Message Encode(const arma::fvec& g, const SlabContext& ctx, SlabStats* stats) const override;
  GroupResult DecodeGroup(const std::vector<Message>& messages,
                          const SlabContext& ctx) const override;
  Theory ExpectedError(const arma::fvec& g, const SlabContext& ctx) const override;
  void Diagnose(const std::vector<arma::fvec>& truth, const GroupResult& decoded,
                const SlabContext& ctx, SlabStats* stats) const override;
  std::unique_ptr<LayerState> NewLayerState(const LayerInfo& layer) const override;
  void Observe(LayerState& state, const GroupResult& decoded,
               const SlabContext& ctx) const override;

  /** The slicing this quantizer applies to @p layer. */
  SliceLayout Layout(const LayerInfo& layer) const { return PlanSlices(layer, k_, all_); }

 private:
  /** Worker coefficients U_d^T(X − μ/N), rounded to float32 as sent (d×M). */
  arma::mat Coefficients(const arma::fvec& g, const GradiveqState& state,
                         const SlabContext& ctx) const;

  std::string spec_;
  std::uint64_t k_;
  double lambda_;
  bool all_;
  std::uint64_t fit_;
};

}  // namespace gradquant
