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
  } else {
    records += o.records;
  }
  bits += o.bits;
  idealBits += o.idealBits;
  downlinkBits += o.downlinkBits;
  normSq += o.normSq;
  aggNormSq += o.aggNormSq;
  for (std::size_t r = 0; r < trialErrorSq.size(); ++r) trialErrorSq[r] += o.trialErrorSq[r];
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
  for (double e : trialErrorSq) perTrial.push_back(Ratio(e, normSq));
  const MeanCi ci = normSq > 0 ? MeanWithCi(perTrial) : MeanCi{kNan, kNan};
  row.nmse = ci.mean;
  row.nmseCi = ci.halfWidth;
  row.theoryKind = theoryKind.empty() ? "none" : theoryKind;
  row.nmseTheory = row.theoryKind != "none" ? Ratio(theorySq, normSq) : kNan;
  row.nmseOverTheory = Ratio(row.nmse, row.nmseTheory);
  row.nmseBound = hasBound ? Ratio(boundSq, normSq) : kNan;
  row.bias = Ratio(biasSq, normSq);
  row.cosine = Ratio(cosineSum, cosineWeight);
  row.aggNmse = Ratio(aggErrorSq, static_cast<double>(trials) * aggNormSq);
  row.encodeGbps = Ratio(inputBytes, encodeSeconds) * 1e-9;
  row.decodeGbps = Ratio(inputBytes, decodeSeconds) * 1e-9;
  for (const auto& [key, sums] : stats) row.stats[key] = Ratio(sums.first, sums.second);
  return row;
}

}  // namespace gradquant
