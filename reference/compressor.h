// compressor: the KV compressors of DeepSeek-V4 (v4-model.md §7, §10), one stem for both layer types:
//   compressor_hca  r = 128, non-overlapping blocks (HCA layers), c = 512;
//   compressor_csa  r = 4, overlapping: entry i pools the previous block's first-half channels and its
//                   own block's second-half channels (CSA layers, c = 512; the indexer's own compressor,
//                   c = 128, with Hadamard + FP4 instead of FP8).
// Per token t (fp32): KV_t = f32(x_t)·Wkvᵀ, Z_t = f32(x_t)·Wgateᵀ + ape[t mod r]  (width w = c or 2c).
// Per entry i and channel k: C_i[k] = Σ_rows softmax_rows(Z[k]) · KV[k]  (max-subtracted exp, fp32).
// Then bf16, RMSNorm(norm), RoPE at position r·i, then the FP8 simulation of [0, c-64) in blocks of 64
// (attention compressor) or Hadamard over c and the FP4 simulation in blocks of 32 (indexer compressor).
// Prefill (start_pos 0) emits floor(s/r) entries and leaves the decode state; decode (one token) emits an
// entry when (p+1) mod r == 0. The state is reset at sequence start (not the demo's stale state).
// docs/compressor.md.
#pragma once
#include <cstdint>

#include "reference/recipe.h"
#include "reference/rope.h"

namespace v4 {

struct CompressorConfig {
  int64_t d;     // hidden size
  int64_t c;     // entry width (512 attention, 128 indexer)
  int64_t r;     // compression ratio
  bool overlap;  // CSA layout (w = 2c, 2r candidate rows per entry)
  bool rotate;   // indexer compressor: Hadamard + FP4 simulation instead of FP8 simulation
  bool sim;      // the FP8 (kv_fp8_sim) or FP4 simulation of the output; off: skipped
  int64_t width() const { return overlap ? 2 * c : c; }
  int64_t state_rows() const { return overlap ? 2 * r : r; }
};

struct CompressorWeights {
  const float* wkv;    // [w, d]  fp32 (the bf16 checkpoint weight, upcast)
  const float* wgate;  // [w, d]
  const float* ape;    // [r, w]  the learned position bias, added to the gate by position in the block
  const float* norm;   // [c]     RMSNorm weight
};

// The decode state: kv_state, score_state fp32 [state_rows, w]. Reset: kv 0, score -inf.
void compressor_state_reset(const CompressorConfig& cfg, float* kv_state, float* score_state);

// ---- Stages (public so tests can check each against its own derivation) ----
// KV, Z: fp32 [M, w] for tokens at positions pos0 .. pos0+M-1 (Z includes ape[pos mod r]).
void compressor_project(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t M,
                        int64_t pos0, Recipe rc, float* KV, float* Z);
// One entry from n candidate rows: kv_rows[j], z_rows[j] each point at c channels. out fp32 [c].
void compressor_pool_rows(const float* const* kv_rows, const float* const* z_rows, int n, int64_t c, Recipe rc,
                          float* out);
// All floor(s/r) prefill entries from the projections of tokens 0 .. s-1. C fp32 [s/r, c].
void compressor_pool_prefill(const CompressorConfig& cfg, const float* KV, const float* Z, int64_t s, Recipe rc,
                             float* C);
// bf16 -> RMSNorm -> RoPE at r·(i0+k) -> FP8 or Hadamard+FP4 simulation, for n pooled entries. out bf16 [n, c].
void compressor_finish(const CompressorConfig& cfg, const CompressorWeights& W, const float* C, int64_t n, int64_t i0,
                       const RopeTable& table, Recipe rc, uint16_t* out);

// ---- The component ----
// Prefill over x bf16 [s, d]: entries bf16 [s/r, c]; resets and then fills the decode state.
void compressor_prefill(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t s,
                        const RopeTable& table, Recipe rc, uint16_t* entries, float* kv_state, float* score_state);
// Decode of the token at position p (x bf16 [d]): updates the state; when (p+1) mod r == 0 writes entry
// floor(p/r) to `entry` (bf16 [c]) and returns true.
bool compressor_decode(const CompressorConfig& cfg, const CompressorWeights& W, const uint16_t* x, int64_t p,
                       const RopeTable& table, Recipe rc, float* kv_state, float* score_state, uint16_t* entry);

}  // namespace v4
