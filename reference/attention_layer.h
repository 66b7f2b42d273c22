// attention_layer: one V4 attention sublayer (v4-model.md §6-§10, §18) for the three layer types —
// SWA-only (ratio 0), CSA (ratio 4: overlapping compressor + lightning indexer + window) and HCA
// (ratio 128: non-overlapping compressor, every visible entry + window) — for a prefill chunk starting at
// position 0 and for one decode step, with the caches and compressor states of §10 as explicit state.
//   prefill: q_proj, kv_proj, window list (+ indexer top-k or every visible HCA entry, offset S), window
//            cache <- the last min(S, win) kv rows, compressor -> compressed cache, sparse attention over
//            [kv of the S tokens | compressed entries], inverse RoPE, output_proj.
//   decode:  q_proj, kv_proj -> window slot p mod win, window list (+ indexer top-k or visible entries,
//            offset win), compressor step, sparse attention over the layer cache [win ring | compressed],
//            inverse RoPE, output_proj.
// The state is reset by the prefill (a sequence starts there), not carried over as in the demo.
// docs/attention_layer.md.
#pragma once
#include <cstdint>
#include <vector>

#include "reference/compressor.h"
#include "reference/indexer.h"
#include "reference/linear.h"
#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

struct AttentionConfig {
  int64_t d;       // hidden size (4096 Flash)
  int64_t H;       // query heads (64)
  int64_t c;       // head dim (512)
  int64_t dc;      // q_lora_rank (1024)
  int64_t g;       // o_groups (8)
  int64_t R;       // o_lora_rank (1024)
  int64_t win;     // window (128)
  int64_t ratio;   // compress ratio: 0 (SWA-only), 4 (CSA), 128 (HCA)
  int64_t nI, cI, topk;  // indexer heads (64), head dim (128), top-k (512)
  bool quant = true;          // FP8 linears (off: bf16 weights)
  bool kv_fp8_sim = true;     // KV / attention-compressor FP8 round trip (off: the earlier release)
  bool index_fp4_sim = true;  // indexer q / k FP4 round trip
  float scale() const;        // fp32(c^-1/2), the kernel's softmax_scale
  CompressorConfig compressor() const { return {d, c, ratio, ratio == 4, false, kv_fp8_sim}; }
  IndexerConfig indexer() const { return {d, dc, nI, cI, topk, ratio, quant, index_fp4_sim}; }
};

// V4-Flash shapes for a layer of the given ratio.
AttentionConfig attention_config_flash(int64_t ratio);

struct AttentionWeights {
  Fp8Weight wq_a;          // [dc, d]
  const float* q_norm;     // [dc]
  Fp8Weight wq_b;          // [H·c, dc]
  Fp8Weight wkv;           // [c, d]
  const float* kv_norm;    // [c]
  const float* attn_sink;  // [H]
  const uint16_t* wo_a;    // bf16 [g·R, H·c/g]
  Fp8Weight wo_b;          // [d, g·R]
  CompressorWeights comp;  // ratio > 0: wkv, wgate [w, d], ape [ratio, w], norm [c]
  IndexerWeights index;    // ratio == 4
};

// The layer's caches and compressor states (v4-model.md §10), for positions < max_seq.
struct AttentionState {
  int64_t max_seq = 0;
  std::vector<uint16_t> kv;            // bf16 [win + max_seq/ratio, c]: window ring slots, then compressed entries
  std::vector<float> comp_kv, comp_score;    // attention compressor state [R_rows, w]
  std::vector<uint16_t> index_k;       // bf16 [max_seq/4, cI] the indexer's compressed keys (CSA)
  std::vector<float> index_kv, index_score;  // the indexer compressor's state (CSA)
};
AttentionState attention_state_init(const AttentionConfig& cfg, int64_t max_seq);

// Intermediates of one call (tests, golden files); rows are the call's tokens.
struct AttentionTrace {
  std::vector<uint16_t> qr, q, kv;  // [T, dc], [T, H, c], [T, c]
  std::vector<int32_t> idx;         // [T, K] the attention's index lists
  int64_t K = 0;
  std::vector<uint16_t> o;          // [T, H, c] attention output after the inverse RoPE
  // Wall time of each stage (benchmarks): q_proj, kv_proj (+ window cache), index lists (indexer or
  // HCA visibility), compressor, sparse attention (+ inverse RoPE), output_proj.
  double seconds[6] = {};
};

// x bf16 [S, d] -> y bf16 [S, d]; table: the layer's RoPE table (rope_params_for_ratio), >= S positions.
void attention_prefill(const AttentionConfig& cfg, const AttentionWeights& W, const uint16_t* x, int64_t S,
                       const RopeTable& table, Recipe rc, AttentionState& st, uint16_t* y,
                       AttentionTrace* trace = nullptr);
// x bf16 [d] at position p (>= 1, after a prefill of p tokens and decode steps up to p-1) -> y bf16 [d].
void attention_decode(const AttentionConfig& cfg, const AttentionWeights& W, const uint16_t* x, int64_t p,
                      const RopeTable& table, Recipe rc, AttentionState& st, uint16_t* y,
                      AttentionTrace* trace = nullptr);

}  // namespace v4
