// Datasets shared by the expert ops (expert_ffn, shared_expert, moe_layer): the activations x [T, d];
// FP4 routed experts (w1, w3 [.., I, d], w2 [.., d, I] e2m1x2 with ue8m0 [.., N, K/32]) and the FP8 shared
// expert (e4m3fn with 128×128 ue8m0 scales), seeded from the model weight generator, read and checked;
// and the outputs of one expert (y and the gate/up/h trace).
#pragma once
#include <string>
#include <vector>

#include "golden/ops.h"
#include "reference/blocks.h"
#include "reference/expert_ffn.h"
#include "reference/shared_expert.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"

namespace v4::golden {

// One FP4 expert (layer 3, expert 0 of the generator), or E of them stacked when E > 0.
inline std::vector<NamedTensor> seeded_fp4_expert(uint64_t seed, int64_t d, int64_t I, int64_t E = 0,
                                                  const std::string& prefix = "") {
  std::vector<NamedTensor> v;
  const int64_t n = E > 0 ? E : 1;
  auto lead = [&](std::vector<int64_t> s) {
    if (E > 0) s.insert(s.begin(), E);
    return s;
  };
  for (const char* m : {"w1", "w3", "w2"}) {
    const bool down = std::string(m) == "w2";
    const int64_t N = down ? d : I, K = down ? I : d;
    Tensor w = Tensor::make(Fmt::e2m1x2, lead({N, K})), s = Tensor::make(Fmt::ue8m0, lead({N, K / kFp4Block}));
    for (int64_t e = 0; e < n; ++e)
      weights_fp4({seed, 3, int32_t(e)}, (std::string("ffn.experts.") + m).c_str(), N, K, w.data.data() + e * N * K / 2,
                  s.data.data() + e * N * (K / kFp4Block));
    std::vector<int64_t> blk(w.shape.size(), 1);
    blk.back() = kFp4Block;
    v.push_back({prefix + m, std::move(w), {"/" + prefix + m + "_scale", blk}});
    v.push_back({prefix + m + "_scale", std::move(s)});
  }
  return v;
}

inline std::vector<NamedTensor> seeded_fp8_expert(uint64_t seed, int64_t d, int64_t I, const std::string& prefix = "") {
  std::vector<NamedTensor> v;
  for (const char* m : {"w1", "w3", "w2"}) {
    const bool down = std::string(m) == "w2";
    const int64_t N = down ? d : I, K = down ? I : d;
    Tensor w = Tensor::make(Fmt::e4m3fn, {N, K}), s = Tensor::make(Fmt::ue8m0, {ceil_div(N, kFp8Block), K / kFp8Block});
    weights_fp8({seed, 3, -1}, (std::string("ffn.shared_experts.") + m).c_str(), N, K, w.data.data(), s.data.data());
    v.push_back({prefix + m, std::move(w), {"/" + prefix + m + "_scale", {kFp8Block, kFp8Block}}});
    v.push_back({prefix + m + "_scale", std::move(s)});
  }
  return v;
}

// The activations x bf16 [T, d] (rank 2; T and d taken from it).
struct ExpertActivations {
  const Tensor* x;
  int64_t T, d;
  const uint16_t* data() const { return x->as<uint16_t>(); }
};
inline ExpertActivations read_expert_x(const OpInputs& in) {
  const Tensor& x = in.get("x", Fmt::bf16);
  in.require_rank("x", x, 2);
  return {&x, x.shape[0], x.shape[1]};
}

// Reads w1, w3, w2 and their scales (names prefixed); E > 0: stacked [E, ...]. Checks every shape
// against d and the I found in w1.
struct Fp4ExpertInputs {
  const Tensor *w1, *s1, *w3, *s3, *w2, *s2;
  int64_t I = 0;
  ExpertFp4Weights weights() const {
    return {w1->data.data(), s1->data.data(), w3->data.data(), s3->data.data(), w2->data.data(), s2->data.data()};
  }
};
inline Fp4ExpertInputs read_fp4_expert(const OpInputs& in, const std::string& prefix, int64_t d, int64_t E = 0) {
  Fp4ExpertInputs r{};
  const size_t lead = E > 0 ? 1 : 0;
  auto get = [&](const char* m, const Tensor*& w, const Tensor*& s, bool down) {
    const std::string wn = prefix + m, sn = wn + "_scale";
    w = &in.get(wn, Fmt::e2m1x2);
    s = &in.get(sn, Fmt::ue8m0);
    in.require_rank(wn, *w, 2 + lead);
    in.require_rank(sn, *s, 2 + lead);
    if (lead) {
      in.require_dim(wn, *w, 0, E, "one matrix per expert");
      in.require_dim(sn, *s, 0, E, "one scale matrix per expert");
    }
    if (!down) r.I = w->shape[lead];
    const int64_t N = down ? d : r.I, K = down ? r.I : d;
    if (N < kFp8Block || K < kFp8Block || N % kFp8Block || K % kFp8Block)
      in.fail(wn, "d and I must be positive multiples of 128 (d = " + std::to_string(d) + ", I = " + std::to_string(r.I) + ")");
    in.require_dim(wn, *w, lead, N, down ? "d rows" : "I rows");
    in.require_dim(wn, *w, lead + 1, K, down ? "I columns" : "d columns");
    in.require_dim(sn, *s, lead, N, "one row per weight row");
    in.require_dim(sn, *s, lead + 1, K / kFp4Block, "one scale per 32 columns");
  };
  get("w1", r.w1, r.s1, false);
  get("w3", r.w3, r.s3, false);
  get("w2", r.w2, r.s2, true);
  return r;
}

struct Fp8ExpertInputs {
  const Tensor *w1, *s1, *w3, *s3, *w2, *s2;
  int64_t I = 0;
  ExpertFp8Weights weights() const {
    return {w1->as<uint8_t>(), s1->as<uint8_t>(), w3->as<uint8_t>(), s3->as<uint8_t>(), w2->as<uint8_t>(), s2->as<uint8_t>()};
  }
};
inline Fp8ExpertInputs read_fp8_expert(const OpInputs& in, const std::string& prefix, int64_t d) {
  Fp8ExpertInputs r{};
  auto get = [&](const char* m, const Tensor*& w, const Tensor*& s, bool down) {
    const std::string wn = prefix + m, sn = wn + "_scale";
    w = &in.get(wn, Fmt::e4m3fn);
    s = &in.get(sn, Fmt::ue8m0);
    in.require_rank(wn, *w, 2);
    in.require_rank(sn, *s, 2);
    if (!down) r.I = w->shape[0];
    const int64_t N = down ? d : r.I, K = down ? r.I : d;
    if (N < kFp8Block || K < kFp8Block || N % kFp8Block || K % kFp8Block)
      in.fail(wn, "d and I must be positive multiples of 128 (d = " + std::to_string(d) + ", I = " + std::to_string(r.I) + ")");
    in.require_dim(wn, *w, 0, N, down ? "d rows" : "I rows");
    in.require_dim(wn, *w, 1, K, down ? "I columns" : "d columns");
    in.require_dim(sn, *s, 0, ceil_div(N, kFp8Block), "one row per 128 weight rows");
    in.require_dim(sn, *s, 1, K / kFp8Block, "one scale per 128 columns");
  };
  get("w1", r.w1, r.s1, false);
  get("w3", r.w3, r.s3, false);
  get("w2", r.w2, r.s2, true);
  return r;
}

// The outputs of one expert op: y bf16 [T, d] and the trace gate, up, h bf16 [T, I], returned in that order.
struct ExpertOutputs {
  Tensor y, gate, up, h;
  ExpertOutputs(int64_t T, int64_t d, int64_t I)
      : y(Tensor::make(Fmt::bf16, {T, d})),
        gate(Tensor::make(Fmt::bf16, {T, I})),
        up(Tensor::make(Fmt::bf16, {T, I})),
        h(Tensor::make(Fmt::bf16, {T, I})) {}
  ExpertTrace trace() { return {gate.as<uint16_t>(), up.as<uint16_t>(), h.as<uint16_t>()}; }
  std::vector<NamedTensor> take() {
    return {{"y", std::move(y)}, {"gate", std::move(gate)}, {"up", std::move(up)}, {"h", std::move(h)}};
  }
};

// bf16 copies of one expert's weights (the quantization-off path: the dequantized values, exact).
struct DequantizedExpert {
  std::vector<uint16_t> w1, w3, w2;
  DequantizedExpert(const ExpertFp4Weights& w, int64_t d, int64_t I) : w1(I * d), w3(I * d), w2(d * I) {
    weight_dequant_fp4(w.w1, w.s1, I, d, w1.data());
    weight_dequant_fp4(w.w3, w.s3, I, d, w3.data());
    weight_dequant_fp4(w.w2, w.s2, d, I, w2.data());
  }
  DequantizedExpert(const ExpertFp8Weights& w, int64_t d, int64_t I) : w1(I * d), w3(I * d), w2(d * I) {
    weight_dequant_fp8(w.w1, w.s1, I, d, w1.data());
    weight_dequant_fp8(w.w3, w.s3, I, d, w3.data());
    weight_dequant_fp8(w.w2, w.s2, d, I, w2.data());
  }
  ExpertBf16Weights weights() const { return {w1.data(), w3.data(), w2.data()}; }
};

}  // namespace v4::golden
