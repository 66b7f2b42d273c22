// Every op stem `v4oracle op` knows, one line each, in the order `v4oracle list` shows them. Stem S
// defines `std::vector<OpSpec> ops_S()` in golden/ops/S.cpp (one file per reference/ stem, which may
// register several ops, e.g. gemm: fp8_gemm, fp4_gemm, bf16_gemm, f32_gemm). Adding a component adds one
// line here (docs/adding-a-component.md); op_registry() refuses a name registered twice.
#pragma once

#define V4_OP_STEMS(X) \
  X(cast)              \
  X(act_quant)         \
  X(fp4_act_quant)     \
  X(weight_dequant)    \
  X(hadamard)          \
  X(gemm)              \
  X(pmath)             \
  X(sinkhorn)          \
  X(mhc_pre)           \
  X(mhc_post)          \
  X(mhc_head)          \
  X(lm_head)           \
  X(moe_gate)          \
  X(hash_router)       \
  X(moe_combine)       \
  X(expert_ffn)        \
  X(shared_expert)     \
  X(moe_layer)         \
  X(embed)             \
  X(rmsnorm)           \
  X(rope)              \
  X(window_index)      \
  X(sparse_attention)  \
  X(compressor)        \
  X(indexer)           \
  X(q_proj)            \
  X(kv_proj)           \
  X(output_proj)       \
  X(attention_layer)   \
  X(newton_schulz)     \
  X(muon)              \
  X(adamw)             \
  X(fp4_qat)           \
  X(mtp)
