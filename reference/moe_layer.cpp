// moe_layer: see moe_layer.h.
#include "reference/moe_layer.h"

#include <chrono>
#include <stdexcept>
#include <string>

#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/hash_router.h"
#include "reference/moe_combine.h"
#include "reference/weight_dequant.h"

namespace v4 {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

GeneratedExperts::GeneratedExperts(uint64_t seed, int32_t layer, int64_t d, int64_t I)
    : seed_(seed), layer_(layer), d_(d), I_(I),
      w1_(I * d / 2), s1_(I * d / kFp4Block), w3_(I * d / 2), s3_(I * d / kFp4Block), w2_(d * I / 2),
      s2_(d * I / kFp4Block) {}

ExpertFp4Weights GeneratedExperts::operator()(int64_t e) {
  const WeightId id{seed_, layer_, int32_t(e)};
  weights_fp4(id, "ffn.experts.w1", I_, d_, w1_.data(), s1_.data());
  weights_fp4(id, "ffn.experts.w3", I_, d_, w3_.data(), s3_.data());
  weights_fp4(id, "ffn.experts.w2", d_, I_, w2_.data(), s2_.data());
  return {w1_.data(), s1_.data(), w3_.data(), s3_.data(), w2_.data(), s2_.data()};
}

ExpertSource stored_experts(const uint8_t* w1, const uint8_t* s1, const uint8_t* w3, const uint8_t* s3,
                            const uint8_t* w2, const uint8_t* s2, int64_t d, int64_t I) {
  const int64_t wb = I * d / 2, sb = I * d / kFp4Block;  // bytes of one expert's matrix and its scales
  return [=](int64_t e) -> ExpertFp4Weights {
    return {w1 + e * wb, s1 + e * sb, w3 + e * wb, s3 + e * sb, w2 + e * wb, s2 + e * sb};
  };
}

void moe_layer(const uint16_t* x, int64_t T, const MoeLayerConfig& cfg, const MoeRouting& routing,
               const ExpertSource& experts, const ExpertFp8Weights& shared, Recipe r, uint16_t* out,
               MoeStats* stats, MoeTrace* trace) {
  const auto t_start = Clock::now();
  const int64_t d = cfg.d, I = cfg.I, E = cfg.E;
  const int k = cfg.k;
  if (T < 0 || d % kFp8Block || I % kFp8Block || d < 1 || I < 1 || E < 1 || k < 1 || k > E)
    throw std::invalid_argument("moe_layer: bad configuration d=" + std::to_string(d) + " I=" + std::to_string(I) +
                                " E=" + std::to_string(E) + " k=" + std::to_string(k));
  MoeStats st;

  // 1. Routing: weights [T, k] f32, idx [T, k] int32.
  auto t0 = Clock::now();
  std::vector<float> weights(T * k);
  std::vector<int32_t> idx(T * k);
  if (routing.tid2eid)
    hash_router(x, routing.gate_w, routing.token_ids, routing.tid2eid, routing.vocab, T, d, E, k, cfg.route_scale, r,
                weights.data(), idx.data());
  else
    moe_gate(x, routing.gate_w, routing.gate_bias, T, d, E, k, cfg.route_scale, r, weights.data(), idx.data());
  st.route = since(t0);

  // 2. Tokens of each expert, ascending token order: the (token, slot) pairs with idx == e.
  std::vector<std::vector<int64_t>> slots(E);  // flat slot t·k + j
  for (int64_t s = 0; s < T * k; ++s) slots[idx[s]].push_back(s);

  // 3. Routed experts in ascending id, one expert's weights in memory at a time.
  std::vector<uint16_t> y_routed(T * k * d);  // [T, k, d]
  std::vector<uint16_t> xe, ye;               // [n_e, d]
  std::vector<float> we;                      // [n_e]
  std::vector<uint16_t> b1, b3, b2;           // dequantized weights (quant off)
  if (!cfg.quant) {
    b1.resize(I * d);
    b3.resize(I * d);
    b2.resize(d * I);
  }
  for (int64_t e = 0; e < E; ++e) {
    const int64_t n = int64_t(slots[e].size());
    if (n == 0) continue;
    ++st.experts_used;
    st.max_tokens_per_expert = std::max(st.max_tokens_per_expert, n);
    t0 = Clock::now();
    const ExpertFp4Weights w = experts(e);
    if (!cfg.quant) {
      weight_dequant_fp4(w.w1, w.s1, I, d, b1.data());
      weight_dequant_fp4(w.w3, w.s3, I, d, b3.data());
      weight_dequant_fp4(w.w2, w.s2, d, I, b2.data());
    }
    st.weights += since(t0);
    t0 = Clock::now();
    xe.resize(n * d);
    ye.resize(n * d);
    we.resize(n);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t s = slots[e][i], t = s / k;
      std::copy(x + t * d, x + (t + 1) * d, xe.begin() + i * d);
      we[i] = weights[s];
    }
    ExpertTrace et;
    et.gemm_seconds = &st.routed_gemm;
    if (cfg.quant)
      expert_ffn_fp4(xe.data(), we.data(), n, d, I, w, cfg.swiglu_limit, r, ye.data(), &et);
    else
      expert_ffn_bf16(xe.data(), we.data(), n, d, I, {b1.data(), b3.data(), b2.data()}, cfg.swiglu_limit, r, ye.data(),
                      &et);
    for (int64_t i = 0; i < n; ++i) std::copy(ye.begin() + i * d, ye.begin() + (i + 1) * d, y_routed.begin() + slots[e][i] * d);
    st.routed += since(t0);
  }

  // 4. Shared expert on every token.
  t0 = Clock::now();
  std::vector<uint16_t> ys(T * d);  // [T, d]
  {
    ExpertTrace et;
    et.gemm_seconds = &st.shared_gemm;
    if (cfg.quant) {
      shared_expert_fp8(x, T, d, I, shared, cfg.shared_expert_clamp, r, ys.data(), &et);
    } else {
      std::vector<uint16_t> s1(I * d), s3(I * d), s2(d * I);
      weight_dequant_fp8(shared.w1, shared.s1, I, d, s1.data());
      weight_dequant_fp8(shared.w3, shared.s3, I, d, s3.data());
      weight_dequant_fp8(shared.w2, shared.s2, d, I, s2.data());
      shared_expert_bf16(x, T, d, I, {s1.data(), s3.data(), s2.data()}, cfg.shared_expert_clamp, r, ys.data(), &et);
    }
  }
  st.shared = since(t0);

  // 5. Combine: ascending expert id, then the shared expert, then bf16.
  t0 = Clock::now();
  moe_combine(y_routed.data(), idx.data(), ys.data(), T, k, d, out);
  st.combine = since(t0);

  if (trace) {
    if (trace->weights) std::copy(weights.begin(), weights.end(), trace->weights);
    if (trace->idx) std::copy(idx.begin(), idx.end(), trace->idx);
    if (trace->y_routed) std::copy(y_routed.begin(), y_routed.end(), trace->y_routed);
    if (trace->shared) std::copy(ys.begin(), ys.end(), trace->shared);
  }
  st.total = since(t_start);
  if (stats) *stats = st;
}

}  // namespace v4
