// Top-k selection with the one canonical order (design.md §3 "Top-k"): a larger score first; among
// equal scores, the smaller index first. Shared by the MoE gate (fp32 scores) and the attention
// indexer (bf16 scores widened to fp32), host and device. The selected list is returned in that
// order, because the order is consumed downstream (the attention accumulates in list order).
//
// Comparisons are IEEE: -0 and +0 are equal (a tie, decided by the index). NaN ranks above every
// number, +inf included (torch.topk's order for largest=True); two NaNs tie and fall to the index.
#pragma once
#include <cstdint>

#include "reference/hd.h"

namespace v4 {

// True when (score a, index ia) comes before (score b, index ib) in the canonical order.
V4_HD bool topk_before(float a, int64_t ia, float b, int64_t ib) {
  const bool na = f32_is_nan(a), nb = f32_is_nan(b);
  if (na || nb) return na && nb ? ia < ib : na;
  if (a != b) return a > b;
  return ia < ib;
}

// The k first elements of scores[0..n) in the canonical order, written to idx[0..k). 0 <= k <= n.
// Insertion into the sorted prefix: O(n·k), fine for k = 6 (gate) and for one query of the indexer.
V4_HD void topk_select(const float* scores, int64_t n, int64_t k, int32_t* idx) {
  if (k <= 0) return;
  int64_t len = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (len == k && !topk_before(scores[i], i, scores[idx[k - 1]], idx[k - 1])) continue;
    int64_t at = len < k ? len++ : k - 1;  // the last slot is dropped when the list is full
    while (at > 0 && topk_before(scores[i], i, scores[idx[at - 1]], idx[at - 1])) {
      idx[at] = idx[at - 1];
      --at;
    }
    idx[at] = int32_t(i);
  }
}

}  // namespace v4
