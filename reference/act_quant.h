// act_quant: FP8 e4m3 dynamic activation quantization with power-of-two (ue8m0) block scales,
// exactly v4-model.md §2.2-2.3 (the later official release). Rows are independent (batch invariant).
//   x: bf16 codes [rows, n]; block B (128 for GEMM inputs, 64 for the KV simulation) divides n.
//   codes form:      q [rows, n] e4m3fn codes, s [rows, n/B] ue8m0 codes.
//   simulation form: y [rows, n] bf16 codes, y = bf16(f32(q) * s)  (the in-place "act_quant(..., inplace=True)").
#pragma once
#include <cstdint>

#include "reference/formats.h"

namespace v4 {

constexpr float kActQuantAmaxFloor = 1e-4f;       // amax = max(max|x|, 1e-4)
constexpr float kFp8InvQmax = 1.0f / 448.0f;      // fp32(1/448) = 0x3B124925, a multiply, not a division

// Power-of-two scale of one block: ue8m0 code of fp32(amax * inv_qmax) by the ceiling rule.
// A NaN amax gives the NaN scale code 0xFF (see docs/quantizers.md).
V4_HD uint8_t fast_round_scale(float amax, float inv_qmax) { return ue8m0_encode(amax * inv_qmax); }

// One element of a block: q = e4m3_satfinite(clamp(f32(x) / s, -448, 448)). NaN passes the clamp as NaN.
V4_HD uint8_t act_quant_element(float x, float s) {
  float v = x / s;
  if (v > kE4M3Max) v = kE4M3Max;
  if (v < -kE4M3Max) v = -kE4M3Max;
  return fp8_e4m3_encode(v, Sat::satfinite);
}

// The simulation form of one element: bf16(f32(q) · s), q = act_quant_element(x, s).
V4_HD uint16_t act_quant_sim_element(float x, float s) { return bf16_encode(fp8_e4m3_decode(act_quant_element(x, s)) * s); }

void act_quant(const uint16_t* x, int64_t rows, int64_t n, int block, uint8_t* q, uint8_t* s);
void act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, int block, uint16_t* y);

}  // namespace v4
