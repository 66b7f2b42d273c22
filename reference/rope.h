// rope: rotary position embedding of DeepSeek-V4 (v4-model.md §5): the frequency table of both regimes
// (θ = 10000 without YaRN for SWA-only layers; θ = 160000 with YaRN for compressed layers), the cos/sin
// table (an explicit input of every kernel that rotates, design.md §3), and the interleaved partial
// rotation of the last `dim` (64) elements of a vector, forward and inverse. docs/rope.md.
//
//   inv_i  = f32(1 / f32(base ^ f32(2i/dim)))                     i = 0 .. dim/2-1
//   YaRN   : inv_i = f32( f32(f32(inv_i / factor) · f32(1 - smooth_i)) + f32(inv_i · smooth_i) )
//   angle  = f32(f32(t) · inv_i);  cos, sin = pmath::cos, pmath::sin (correctly rounded)
//   rotate : a' = f32(f32(a·c) - f32(b·s)),  b' = f32(f32(a·s) + f32(b·c)), s -> -s for the inverse,
//            on pairs (a, b) = (x[nope + 2i], x[nope + 2i + 1]) of fp32(bf16 x); written back as bf16.
#pragma once
#include <cstdint>

namespace v4 {

struct RopeParams {
  double base;               // θ (rope_theta or compress_rope_theta)
  double factor;             // YaRN factor (rope_factor)
  int64_t original_seq_len;  // > 0 enables YaRN (v4-model.md §5.1)
  double beta_fast, beta_slow;
  int dim;                   // rope_head_dim: the rotated tail of every vector (64 in V4)
};

// SWA-only layers and the MTP block: θ = 10000, no YaRN.
constexpr RopeParams kRopeSwa{10000.0, 16.0, 0, 32.0, 1.0, 64};
// Every compressed layer (CSA and HCA), for all RoPE in the layer: θ = 160000, YaRN(16, 65536, 32, 1).
constexpr RopeParams kRopeCompressed{160000.0, 16.0, 65536, 32.0, 1.0, 64};
// The parameters of a layer with compress ratio `ratio` (0: SWA-only).
constexpr RopeParams rope_params_for_ratio(int ratio) { return ratio == 0 ? kRopeSwa : kRopeCompressed; }

// The YaRN correction range (low, high) of v4-model.md §5.1, as the code's Python doubles
// (high gets +0.001 if equal to low). Only meaningful when original_seq_len > 0.
void rope_yarn_range(const RopeParams& p, double* low, double* high);
// inv: fp32 [dim/2].
void rope_inv_freq(const RopeParams& p, float* inv);
// The table for positions 0 .. positions-1: cos, sin fp32 [positions, dim/2], row t at angle f32(f32(t)·inv_i).
void rope_table(const RopeParams& p, int64_t positions, float* cos, float* sin);

// A read-only view of a table made by rope_table (rows = positions, half = dim/2).
struct RopeTable {
  const float* cos;
  const float* sin;
  int64_t positions;
  int half;
};

// Rotates, in place, the last 2·table.half elements of each row of x (bf16 codes [rows, n]); row r is at
// position pos[r / rows_per_pos] (e.g. rows_per_pos = H for q [T, H, c]). inverse: angle -θ (the
// de-rotation of the attention output). Throws std::invalid_argument on a position outside the table.
void rope_apply(uint16_t* x, int64_t rows, int64_t n, const int32_t* pos, int64_t rows_per_pos, const RopeTable& table,
                bool inverse);

}  // namespace v4
