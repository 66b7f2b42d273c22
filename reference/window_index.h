// window_index: the per-query index lists of the sparse attention (v4-model.md §6.3, S1
// get_window_topk_idxs / get_compress_topk_idxs): which KV entries a query may see, in the order the
// attention accumulates them. -1 marks a padding entry (masked). docs/window_index.md.
//
// Window part (every layer):
//   prefill (start_pos 0, s tokens): row t = [max(0, t-win+1) .. t], padded with -1 to width min(s, win);
//            entries are positions = rows of the prefill KV array.
//   decode (one token at position p, ring slot = pos mod win): width win;
//            p >= win-1: slots [(p mod win)+1 .. win-1, 0 .. p mod win] (oldest to newest);
//            p <  win-1: [0 .. p] padded with -1.
// Compressed part of HCA layers (all visible entries, ascending): entry i is visible to query t iff
//   i < floor((t+1)/r) (its block ends at or before t);
//   prefill: row t = [0 .. floor(s/r)-1] with invisible entries -1, visible ones + offset (offset = s);
//   decode:  [0 .. floor((p+1)/r)-1] + offset (offset = win).
#pragma once
#include <cstdint>

namespace v4 {

// Number of compressed entries visible to the query at position t (blocks of r ending at or before t).
constexpr int64_t compressed_visible(int64_t t, int64_t r) { return (t + 1) / r; }

constexpr int64_t window_index_prefill_width(int64_t s, int64_t win) { return s < win ? s : win; }
void window_index_prefill(int64_t s, int64_t win, int32_t* idx);  // idx [s, min(s, win)]
void window_index_decode(int64_t p, int64_t win, int32_t* idx);    // idx [win]

constexpr int64_t compressed_index_prefill_width(int64_t s, int64_t r) { return s / r; }
void compressed_index_prefill(int64_t s, int64_t r, int64_t offset, int32_t* idx);  // idx [s, s/r]
constexpr int64_t compressed_index_decode_width(int64_t p, int64_t r) { return compressed_visible(p, r); }
void compressed_index_decode(int64_t p, int64_t r, int64_t offset, int32_t* idx);   // idx [(p+1)/r]

}  // namespace v4
