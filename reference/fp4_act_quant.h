// fp4_act_quant: FP4 e2m1 simulation of activations with power-of-two block scales (block 32),
// exactly v4-model.md §2.4: amax = max(max|x|, 6*2^-126), s = fast_round_scale(amax, fp32(1/6)),
// q = e2m1(clamp(f32(x)/s, -6, 6)). Rows are independent.
//   x: bf16 codes [rows, n], n a multiple of 32.
//   codes form:      q packed [rows, n/2] (element 2k in the low nibble), s [rows, n/32] ue8m0 codes.
//   simulation form: y [rows, n] bf16 codes, y = bf16(f32(q) * s) (the only form model.py uses).
#pragma once
#include <cstdint>

#include "reference/act_quant.h"
#include "reference/blocks.h"

namespace v4 {

constexpr float kFp4AmaxFloor = 6.0f * 0x1p-126f;  // exact: 1.5 * 2^-124
constexpr float kFp4InvQmax = 1.0f / 6.0f;         // fp32(1/6) = 0x3E2AAAAB
constexpr float kE2M1Max = 6.0f;

V4_HD uint8_t fp4_act_quant_element(float x, float s) {
  float v = x / s;
  if (v > kE2M1Max) v = kE2M1Max;
  if (v < -kE2M1Max) v = -kE2M1Max;
  return fp4_e2m1_encode(v);
}

// The simulation form of one element: bf16(f32(q) · s), q = fp4_act_quant_element(x, s).
V4_HD uint16_t fp4_act_quant_sim_element(float x, float s) {
  return bf16_encode(fp4_e2m1_decode(fp4_act_quant_element(x, s)) * s);
}

void fp4_act_quant(const uint16_t* x, int64_t rows, int64_t n, uint8_t* q_packed, uint8_t* s);
void fp4_act_quant_sim(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y);

}  // namespace v4
