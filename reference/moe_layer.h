// moe_layer: the MoE sublayer of a block (v4-model.md §11; model.py MoE.forward): routing (moe_gate, or
// hash_router in the hash layers), the routed experts (expert_ffn, FP4), the shared expert
// (shared_expert, FP8) and the combine in ascending expert id (moe_combine).
//   x [T, d] bf16 (the ffn_norm output) -> out [T, d] bf16.
// Routed weights are produced on demand by an ExpertSource, called once per expert that has tokens, in
// ascending id: memory holds one expert's weights at a time, whatever E is (the real-scale layer needs
// 12.6 MB of FP4 weights per expert; all 256 at once would be 3.2 GB). Each token's output depends only
// on its own x and token id (every GEMM row, act_quant row and element op is per token): batch invariant.
// docs/moe_layer.md.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "reference/expert_ffn.h"
#include "reference/moe_gate.h"
#include "reference/recipe.h"
#include "reference/shared_expert.h"
#include "reference/weights.h"

namespace v4 {

struct MoeLayerConfig {
  int64_t d = 4096;       // hidden size
  int64_t I = 2048;       // moe_inter_dim (routed and shared)
  int64_t E = 256;        // routed experts
  int k = kMoeTopK;       // experts per token
  float route_scale = kRouteScaleFlash;
  float swiglu_limit = kSwigluLimit;  // routed experts
  bool shared_expert_clamp = true;    // release switch (shared_expert.h)
  bool quant = true;                  // quantization simulation; off: bf16 dequantized weights, bf16 GEMMs
};

struct MoeRouting {
  const uint16_t* gate_w = nullptr;    // [E, d] bf16
  const float* gate_bias = nullptr;    // [E] f32, score routing (null in hash layers)
  const int32_t* tid2eid = nullptr;    // [vocab, k] int32: set = hash routing
  int64_t vocab = 0;
  const int32_t* token_ids = nullptr;  // [T], needed for hash routing
};

// Returns expert e's FP4 weights; pointers stay valid until the next call.
using ExpertSource = std::function<ExpertFp4Weights(int64_t e)>;

// Wall-time breakdown of one call (seconds), filled when a MoeStats is passed.
struct MoeStats {
  double total = 0, route = 0, weights = 0, routed = 0, routed_gemm = 0, shared = 0, shared_gemm = 0, combine = 0;
  int64_t experts_used = 0, max_tokens_per_expert = 0;
};
// Optional intermediates: routing [T, k] and per-slot expert outputs [T, k, d], shared output [T, d].
struct MoeTrace {
  float* weights = nullptr;
  int32_t* idx = nullptr;
  uint16_t* y_routed = nullptr;
  uint16_t* shared = nullptr;
};

void moe_layer(const uint16_t* x, int64_t T, const MoeLayerConfig& cfg, const MoeRouting& routing,
               const ExpertSource& experts, const ExpertFp8Weights& shared, Recipe r, uint16_t* out,
               MoeStats* stats = nullptr, MoeTrace* trace = nullptr);

// An ExpertSource over the model weight generator: expert e of layer `layer` as weights_fp4 produces it
// ("ffn.experts.w1/w3/w2"), into buffers it owns (one expert at a time).
class GeneratedExperts {
 public:
  GeneratedExperts(uint64_t seed, int32_t layer, int64_t d, int64_t I);
  ExpertFp4Weights operator()(int64_t e);

 private:
  uint64_t seed_;
  int32_t layer_;
  int64_t d_, I_;
  std::vector<uint8_t> w1_, s1_, w3_, s3_, w2_, s2_;
};

// An ExpertSource over weights held in memory: w1, w3 packed [E, I, d/2], scales [E, I, d/32];
// w2 packed [E, d, I/2], scales [E, d, I/32].
ExpertSource stored_experts(const uint8_t* w1, const uint8_t* s1, const uint8_t* w3, const uint8_t* s3,
                            const uint8_t* w2, const uint8_t* s2, int64_t d, int64_t I);

}  // namespace v4
