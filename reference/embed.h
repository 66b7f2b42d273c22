// embed: token embedding and the expansion to the hyper-connection streams (v4-model.md §3 items 1-2;
// model.py ParallelEmbedding + Transformer.forward's repeat): e = embed[token] (a bf16 row, no
// arithmetic), then R[t][k] = e for k = 0..n-1 (n = hc_mult = 4 identical copies).
// Shapes: table [V, d] bf16; ids [T] int32 in [0, V); R [T, n, d] bf16.
// embed_generated reads the rows from the model weight generator ("embed.weight", layer -1;
// docs/weights.md) instead of a table: only the T rows needed are produced (the V-F table is 1 GiB).
#pragma once
#include <cstdint>

namespace v4 {

inline constexpr int64_t kVocabSize = 129280;  // vocab_size (Flash and Pro)
inline constexpr int kEmbedExp = -4;           // generated rows: normal · 2^-4 (sd 0.072), docs/weights.md

void embed(const uint16_t* table, int64_t V, int64_t d, const int32_t* ids, int64_t T, int n, uint16_t* R);
void embed_generated(uint64_t seed, int64_t V, int64_t d, const int32_t* ids, int64_t T, int n, uint16_t* R);

}  // namespace v4
