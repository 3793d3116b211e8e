#include "gradquant/pipeline/quantizer_tally.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "gradquant/quantizers/quantizer.hpp"
#include "gradquant/stats/confidence.hpp"

namespace gradquant {
namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

double Ratio(double a, double b) { return b > 0 ? a / b : kNan; }

}  // namespace

void QuantizerTally::Merge(const QuantizerTally& o, bool acrossLayers) {
  if (records == 0) {
    *this = o;
    return;
  }
  if (o.trials != trials) throw std::invalid_argument("QuantizerTally: trial counts differ");
  if (acrossLayers) {
    n += o.n;
    accErrorSq += o.accErrorSq;
    accMeanNormSq += o.accMeanNormSq;
  } else {
    // The accumulated error runs over the records: the later record's value is the row's.
    records += o.records;
    accErrorSq = o.accErrorSq;
    accMeanNormSq = o.accMeanNormSq;
  }
  bits += o.bits;
  idealBits += o.idealBits;
  downlinkBits += o.downlinkBits;
  normSq += o.normSq;
  gradientNormSq += o.gradientNormSq;
  residualSq += o.residualSq;
  aggNormSq += o.aggNormSq;
  for (std::size_t r = 0; r < trialErrorSq.size(); ++r) {
    trialErrorSq[r] += o.trialErrorSq[r];
    trialNormSq[r] += o.trialNormSq[r];
  }
  for (std::size_t r = 0; r < trialTheorySq.size(); ++r) {
    trialTheorySq[r] += o.trialTheorySq[r];
    trialBoundSq[r] += o.trialBoundSq[r];
  }
  aggErrorSq += o.aggErrorSq;
  theorySq += o.theorySq;
  boundSq += o.boundSq;
  theoryKind = CombineTheoryKinds(theoryKind, o.theoryKind);
  hasBound = hasBound && o.hasBound;
  biasSq += o.biasSq;
  cosineSum += o.cosineSum;
  cosineWeight += o.cosineWeight;
  for (const auto& [key, sums] : o.stats) {
    stats[key].first += sums.first;
    stats[key].second += sums.second;
  }
  encodeSeconds += o.encodeSeconds;
  decodeSeconds += o.decodeSeconds;
  inputBytes += o.inputBytes;
}

QuantizerRow QuantizerTally::Finish() const {
  QuantizerRow row;
  const double messages = static_cast<double>(workers * records * trials);
  const double coords = static_cast<double>(n);
  row.bits = Ratio(bits, messages);
  row.bitsPerCoord = Ratio(row.bits, coords);
  row.bitsIdealPerCoord = Ratio(Ratio(idealBits, messages), coords);
  row.ratio = Ratio(32.0 * coords, row.bits);
  row.downlinkBits = Ratio(downlinkBits, static_cast<double>(records * trials));
  std::vector<double> perTrial;
  for (std::size_t r = 0; r < trialErrorSq.size(); ++r) {
    perTrial.push_back(Ratio(trialErrorSq[r], trialNormSq[r]));
  }
  const MeanCi ci = normSq > 0 ? MeanWithCi(perTrial) : MeanCi{kNan, kNan};
  row.nmse = ci.mean;
  row.nmseCi = ci.halfWidth;
  row.theoryKind = theoryKind.empty() ? "none" : theoryKind;
  row.nmseTheory = row.theoryKind != "none" ? Ratio(theorySq, normSq) : kNan;
  row.nmseBound = hasBound ? Ratio(boundSq, normSq) : kNan;
  if (!trialTheorySq.empty()) {
    // Each trial's chain has its own inputs: the theory is averaged as nmse is.
    std::vector<double> theory, bound;
    for (std::size_t r = 0; r < trialTheorySq.size(); ++r) {
      theory.push_back(Ratio(trialTheorySq[r], trialNormSq[r]));
      bound.push_back(Ratio(trialBoundSq[r], trialNormSq[r]));
    }
    if (row.theoryKind != "none") row.nmseTheory = MeanWithCi(theory).mean;
    if (hasBound) row.nmseBound = MeanWithCi(bound).mean;
  }
  row.nmseOverTheory = Ratio(row.nmse, row.nmseTheory);
  row.bias = Ratio(biasSq, normSq);
  row.cosine = Ratio(cosineSum, cosineWeight);
  row.aggNmse = Ratio(aggErrorSq, static_cast<double>(trials) * aggNormSq);
  row.encodeGbps = Ratio(inputBytes, encodeSeconds) * 1e-9;
  row.decodeGbps = Ratio(inputBytes, decodeSeconds) * 1e-9;
  row.efResidual =
      feedback ? Ratio(residualSq, static_cast<double>(trials) * gradientNormSq) : kNan;
  row.accNmse = feedback ? Ratio(accErrorSq, static_cast<double>(trials) * accMeanNormSq) : kNan;
  for (const auto& [key, sums] : stats) row.stats[key] = Ratio(sums.first, sums.second);
  return row;
}

}  // namespace gradquant
