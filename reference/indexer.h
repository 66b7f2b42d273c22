// indexer: the lightning indexer of V4's CSA layers (v4-model.md §8): picks, per query, the top-k
// compressed entries the attention will see.
//   q   = wq_b(qr) [T, nh, hd] (FP8 linear on the q LoRA output); RoPE on q[.., hd-64 : hd];
//         Hadamard over hd per head; FP4 simulation (blocks of 32)
//   k   = the indexer's own compressor (r = 4, overlap, c = hd, Hadamard + FP4), cache [n, hd]
//   w   = bf16(weights_proj(x)) [T, nh] (bf16 GEMM), w' = bf16(w · fp32(hd^-1/2 · nh^-1/2))
//   e   = bf16(q_h · k_s) (bf16 GEMM);   I[t, s] = bf16( Σ_h bf16(relu(e) · w'_h) )   (bf16 index scores)
//   prefill: I = -inf where s >= floor((t+1)/4); top-k (k = min(topk, floor(S/4))) by larger score, then
//            smaller index; selected entries s >= floor((t+1)/4) become -1, the others + offset (S)
//   decode:  the cache holds floor((p+1)/4) entries (the compressor runs first); top-k, + offset (win)
// Switches: quant (FP8 wq_b vs bf16 weights), fp4_sim (the FP4 simulation of q and k). docs/indexer.md.
#pragma once
#include <cstdint>
#include <vector>

#include "reference/compressor.h"
#include "reference/linear.h"
#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

struct IndexerConfig {
  int64_t d;      // hidden size
  int64_t dc;     // q LoRA rank (the input width of wq_b)
  int64_t nh;     // index heads (64)
  int64_t hd;     // index head dim (128)
  int64_t topk;   // K_I (512 Flash, 1024 Pro)
  int64_t r;      // compression ratio of the layer (4)
  bool quant;     // FP8 wq_b; off: bf16 weights
  bool fp4_sim;   // FP4 simulation of q and of the compressed keys
  CompressorConfig compressor() const { return {d, hd, r, true, true, fp4_sim}; }
};

struct IndexerWeights {
  Fp8Weight wq_b;                 // [nh·hd, dc]
  const uint16_t* weights_proj;   // bf16 [nh, d]
  CompressorWeights comp;         // wkv, wgate [2hd, d], ape [r, 2hd], norm [hd]
};

// fp32(hd^-1/2 · nh^-1/2): the code's Python product softmax_scale · n_heads^-0.5, passed as fp32.
float indexer_weight_scale(int64_t nh, int64_t hd);

// Optional intermediates (tests, golden files).
struct IndexerTrace {
  std::vector<uint16_t> q;   // [T, nh, hd] after Hadamard (+ FP4)
  std::vector<uint16_t> w;   // [T, nh]     w'
  std::vector<float> score;  // [T, n]      bf16 index scores as fp32 (-inf masked), n = entries
};

// ---- Stages ----
void indexer_q(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* qr, int64_t T, const int32_t* pos,
               const RopeTable& table, Recipe rc, uint16_t* q);
void indexer_weights(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, int64_t T, Recipe rc,
                     uint16_t* w);
// Scores of T queries against entries [0, n) of the key cache; entries s >= visible[t] are -inf (pass
// visible = nullptr for none masked). score fp32 [T, n] (bf16 values).
void indexer_scores(const IndexerConfig& cfg, const uint16_t* q, const uint16_t* w, const uint16_t* kcache, int64_t T,
                    int64_t n, const int64_t* visible, Recipe rc, float* score);

// ---- The component ----
// Prefill: x bf16 [S, d], qr bf16 [S, dc]. Writes kcache [S/4, hd] and the indexer compressor's state;
// idx int32 [S, min(topk, S/4)].
void indexer_prefill(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, const uint16_t* qr,
                     int64_t S, const RopeTable& table, Recipe rc, int64_t offset, int32_t* idx, uint16_t* kcache,
                     float* kv_state, float* score_state, IndexerTrace* trace = nullptr);
constexpr int64_t indexer_prefill_width(int64_t topk, int64_t S, int64_t r) { return topk < S / r ? topk : S / r; }
// Decode at position p: runs the compressor step (kcache entry p/4 when complete), then selects among the
// floor((p+1)/4) entries. idx int32 [min(topk, (p+1)/4)].
void indexer_decode(const IndexerConfig& cfg, const IndexerWeights& W, const uint16_t* x, const uint16_t* qr, int64_t p,
                    const RopeTable& table, Recipe rc, int64_t offset, int32_t* idx, uint16_t* kcache, float* kv_state,
                    float* score_state, IndexerTrace* trace = nullptr);
constexpr int64_t indexer_decode_width(int64_t topk, int64_t p, int64_t r) {
  return topk < (p + 1) / r ? topk : (p + 1) / r;
}

}  // namespace v4
