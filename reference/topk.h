// topk: the top-k selection rule of the reference (design.md §3 "Top-k"): the k largest scores, ordered by
// larger score first and, among equal scores, smaller index first. torch.topk on CUDA leaves the order of
// ties unspecified; the order matters for bits because the attention accumulates its index list in blocks
// of 64 in list order. NaN ranks above every number (as torch.topk); -0 and +0 are equal scores.
// Used by the indexer (bf16 scores, where ties are frequent). docs/indexer.md.
#pragma once
#include <cstdint>

namespace v4 {

// out int32 [k]: indices into score [n], 0 <= k <= n.
void topk_desc(const float* score, int64_t n, int64_t k, int32_t* out);

}  // namespace v4
