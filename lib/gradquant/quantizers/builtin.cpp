#include <memory>

#include "gradquant/quantizers/dqsg.hpp"
#include "gradquant/quantizers/drive.hpp"
#include "gradquant/quantizers/eden.hpp"
#include "gradquant/quantizers/fp32.hpp"
#include "gradquant/quantizers/fp8.hpp"
#include "gradquant/quantizers/gradiveq.hpp"
#include "gradquant/quantizers/half_cast.hpp"
#include "gradquant/quantizers/natural.hpp"
#include "gradquant/quantizers/ndqsg.hpp"
#include "gradquant/quantizers/onebit.hpp"
#include "gradquant/quantizers/powersgd.hpp"
#include "gradquant/quantizers/qsgd.hpp"
#include "gradquant/quantizers/randk.hpp"
#include "gradquant/quantizers/registry.hpp"
#include "gradquant/quantizers/s3gdmv.hpp"
#include "gradquant/quantizers/scaled_sign.hpp"
#include "gradquant/quantizers/sign.hpp"
#include "gradquant/quantizers/terngrad.hpp"
#include "gradquant/quantizers/tnq.hpp"
#include "gradquant/quantizers/topk.hpp"

namespace gradquant {
namespace {

template <class Q>
QuantizerFactory Factory() {
  return [](Params& params) -> std::unique_ptr<Quantizer> { return std::make_unique<Q>(params); };
}

}  // namespace

void RegisterBuiltinQuantizers(Registry& registry) {
  registry.Add(
      {"fp32", "identity: every coordinate as float32, the reference", Factory<Fp32Quantizer>()});
  registry.Add({"fp16", "IEEE half-precision cast, 16 bits, saturating (mixed-precision baseline)",
                Factory<HalfCastQuantizer>()});
  registry.Add({"bf16", "bfloat16 cast, 16 bits, float32's range (mixed-precision baseline)",
                Factory<HalfCastQuantizer>()});
  registry.Add({"fp8", "OCP FP8 (e4m3 or e5m2), 8 bits + a float32 scale per bucket (OFP8 2023)",
                Factory<Fp8Quantizer>()});
  registry.Add({"dqsg", "dithered quantized SGD, subtractive dither (Abdi & Fekri 2019)",
                Factory<DqsgQuantizer>()});
  registry.Add({"qsgd", "stochastic rounding to s levels, Elias coding (Alistarh et al. 2017)",
                Factory<QsgdQuantizer>()});
  registry.Add({"topk", "Top-K sparsification, exact index code (Stich et al. 2018)",
                Factory<TopKQuantizer>()});
  registry.Add({"randk", "Random-K, indices from the shared seed (Wangni et al. 2018)",
                Factory<RandKQuantizer>()});
  registry.Add({"powersgd", "rank-r PowerSGD, one power iteration (Vogels et al. 2019)",
                Factory<PowerSgdQuantizer>()});
  registry.Add({"ndqsg", "nested dithered quantization with side information (Abdi & Fekri 2019)",
                Factory<NdqsgQuantizer>()});
  registry.Add({"tnq", "truncated non-uniform quantization, Laplace-optimal (Yan et al. 2024)",
                Factory<TnqQuantizer>()});
  registry.Add({"gradiveq", "PCA vector quantization, compressed-domain sum (Yu et al. 2018)",
                Factory<GradiveqQuantizer>()});
  registry.Add({"s3gdmv", "sparse signSGD with majority vote (Park & Lee 2023)",
                Factory<S3gdmvQuantizer>()});
  registry.Add({"terngrad", "stochastic ternary {-s,0,s}, s = max|g| (Wen et al. 2017)",
                Factory<TernGradQuantizer>()});
  registry.Add({"sign", "signSGD, 1 bit per coordinate, majority vote (Bernstein et al. 2018)",
                Factory<SignQuantizer>()});
  registry.Add({"scaledsign", "(||g||_1/D) sign(g), 1 bit + 32 (Karimireddy et al. 2019)",
                Factory<ScaledSignQuantizer>()});
  registry.Add({"natural", "random rounding to powers of two, 9 bits (Horvath et al. 2019)",
                Factory<NaturalQuantizer>()});
  registry.Add({"onebit", "1-bit SGD: threshold 0, two means per column (Seide et al. 2014)",
                Factory<OneBitQuantizer>()});
  registry.Add({"drive", "sign of the Hadamard-rotated slab + one scale (Vargaftik et al. 2021)",
                Factory<DriveQuantizer>()});
  registry.Add({"eden", "Lloyd-Max codes of the Hadamard-rotated slab (Vargaftik et al. 2022)",
                Factory<EdenQuantizer>()});
}

}  // namespace gradquant
