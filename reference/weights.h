// Model weights from a counter-based generator: every stored element is a pure function of
// (seed, layer, tensor name, expert, element index), so any expert's weights are produced on demand, in
// any order, on CPU or GPU, with the same bits (design.md §5, §8). The element functions here are V4_HD:
// a CUDA kernel includes this header and calls them per element. reference/weights.cpp fills whole
// tensors on the host (OpenMP over rows). docs/weights.md states every distribution and why.
//
// Keys. A tensor is named as in the checkpoint without the layer/expert prefix ("ffn.experts.w1",
// "ffn.gate.weight", "embed.weight", ...); layer = -1 for tensors outside the layers (embed, head, norm,
// hc_head_*), expert = -1 for tensors that are not per expert. The stream of a tensor mixes the three:
//   stream = rng_mix64(rng_stream_id(name) ^ rng_mix64(kWeightSalt + (u32(layer) << 32 | u32(expert))))
// A low-precision tensor's scales are a separate tensor: name + ".scale".
//
// Distributions (all exact in their storage format; weight sd in [0.707, 1.414) / sqrt(fan_in)):
//   normal(r)   = (S - 131070) · 2^-15, S the sum of the four 16-bit fields of one 64-bit draw:
//                 Irwin-Hall of order 4, mean 0, sd 2/sqrt(3) = 1.1547, support ±3.9998 (exact in fp32).
//   FP4 (e2m1)  one 64-bit draw per 8 consecutive elements; element i uses byte i: bit 7 the sign, the low
//                 7 bits u pick the magnitude by cumulative counts (13, 25, 22, 19, 22, 17, 8, 2)/128 over
//                 {0, .5, 1, 1.5, 2, 3, 4, 6}: N(0, 2²) rounded to the e2m1 grid (variance exactly 4).
//                 Scale per (row, 32-block): 2^(e - b), b one random bit (64 per draw), e = weight_fp4_exp(fan_in).
//   FP8 (e4m3)  e4m3_rne((S - 131070) · 2^-9): sd 73.9, |v| <= 256 (no clamp). Scale per 128×128 block:
//                 2^(e - b), e = weight_fp8_exp(fan_in).
//   bf16 / f32  bf16_rne(normal · 2^e) or normal · 2^e; RMSNorm weights bf16_rne(1 + normal · 2^-4).
#pragma once
#include <cstdint>

#include "reference/formats.h"
#include "reference/hd.h"
#include "reference/rng.h"

namespace v4 {

inline constexpr uint64_t kWeightSalt = 0x5EED0F0DEE75EEDull;

V4_HD uint64_t weight_stream(int32_t layer, const char* tensor, int32_t expert) {
  const uint64_t where = (uint64_t(uint32_t(layer)) << 32) | uint64_t(uint32_t(expert));
  return rng_mix64(rng_stream_id(tensor) ^ rng_mix64(kWeightSalt + where));
}

// Scale exponents: the integer e for which a weight of variance c2 · 4^e has c2 · 4^e · fan_in in
// [1/2, 2), i.e. a weight sd within [0.707, 1.414) / sqrt(fan_in) (power-of-two scales cannot do better).
// c2 per unit scale: FP4 codes have variance 4 and the scale 2^(e-b) has mean square (1 + 1/4)/2 = 5/8,
// so 2.5; FP8 codes (65536² - 1)/3 · 2^-18 · 5/8 = 3413.3; normal 4/3. Doubles and exact scaling only.
V4_HD int weight_exp_for(double c2, int64_t fan_in) {
  double x = c2 * double(fan_in);
  int e = 0;
  while (x >= 2.0) x *= 0.25, --e;
  while (x < 0.5) x *= 4.0, ++e;
  return e;
}
V4_HD int weight_fp4_exp(int64_t fan_in) { return weight_exp_for(2.5, fan_in); }
V4_HD int weight_fp8_exp(int64_t fan_in) { return weight_exp_for((65536.0 * 65536.0 - 1) / 3 * 0x1p-18 * 0.625, fan_in); }
V4_HD int weight_normal_exp(int64_t fan_in) { return weight_exp_for(4.0 / 3.0, fan_in); }

// ---- Element functions (key = rng_key(seed, stream)). ----
V4_HD float weight_normal(uint64_t r) {
  const int32_t s = int32_t(r & 0xFFFF) + int32_t((r >> 16) & 0xFFFF) + int32_t((r >> 32) & 0xFFFF) + int32_t(r >> 48);
  return float(s - 131070) * 0x1p-15f;
}

// e2m1 code of one 8-bit field (sign in bit 7).
V4_HD uint8_t weight_fp4_code(uint32_t field) {
  const uint32_t u = field & 0x7Fu;
  const uint8_t mag = uint8_t((u >= 13) + (u >= 38) + (u >= 60) + (u >= 79) + (u >= 101) + (u >= 118) + (u >= 126));
  return uint8_t(mag | ((field >> 4) & 0x8u));
}
// Packed byte p of a row-major FP4 tensor (elements 2p, 2p+1 of the flat index; 2p's code in the low nibble).
V4_HD uint8_t weight_fp4_byte(uint64_t key, int64_t p) {
  const uint64_t r = rng_at(key, uint64_t(p) >> 2);
  const int at = int(p & 3) * 16;  // element 2p is byte (2p) & 7 of the draw
  return fp4_e2m1_pack(weight_fp4_code(uint32_t(r >> at) & 0xFFu), weight_fp4_code(uint32_t(r >> (at + 8)) & 0xFFu));
}
// ue8m0 code of scale block b: 2^(e - bit), the bit being bit (b mod 64) of draw b / 64.
V4_HD uint8_t weight_scale_code(uint64_t scale_key, int64_t b, int e) {
  return uint8_t(127 + e - int((rng_at(scale_key, uint64_t(b) >> 6) >> (b & 63)) & 1));
}
V4_HD uint8_t weight_fp8_code(uint64_t key, int64_t i) {
  const uint64_t r = rng_at(key, uint64_t(i));
  const int32_t s = int32_t(r & 0xFFFF) + int32_t((r >> 16) & 0xFFFF) + int32_t((r >> 32) & 0xFFFF) + int32_t(r >> 48);
  return fp8_e4m3_encode(float(s - 131070) * 0x1p-9f, Sat::satfinite);
}
V4_HD float weight_f32(uint64_t key, int64_t i, int e) { return weight_normal(rng_at(key, uint64_t(i))) * f32_pow2(e); }
V4_HD uint16_t weight_bf16(uint64_t key, int64_t i, int e) { return bf16_encode(weight_f32(key, i, e)); }
V4_HD uint16_t weight_norm_bf16(uint64_t key, int64_t i) { return bf16_encode(1.0f + weight_f32(key, i, -4)); }

// Row v of the hash table: k distinct expert ids in [0, E). Slot j draws (v·k + j)·64 + a for a = 0, 1, ...
// until it finds an id not yet in the row; after 64 draws (probability < (k/E)^64) the smallest unused id.
V4_HD void weight_tid2eid_row(uint64_t key, int64_t v, int64_t E, int k, int32_t* row) {
  for (int j = 0; j < k; ++j) {
    int32_t pick = -1;
    for (int a = 0; a < 64 && pick < 0; ++a) {
      const int32_t e = int32_t(rng_at(key, uint64_t((v * k + j) * 64 + a)) % uint64_t(E));
      bool used = false;
      for (int i = 0; i < j; ++i) used |= row[i] == e;
      if (!used) pick = e;
    }
    for (int32_t e = 0; pick < 0; ++e) {
      bool used = false;
      for (int i = 0; i < j; ++i) used |= row[i] == e;
      if (!used) pick = e;
    }
    row[j] = pick;
  }
}

// ---- Whole tensors on the host (weights.cpp). `name` is the checkpoint name without ".weight". ----
struct WeightId {
  uint64_t seed;
  int32_t layer;   // -1: outside the layers
  int32_t expert;  // -1: not per expert
};
// FP4 [N, K] (K % 32 == 0): packed [N, K/2], scales ue8m0 [N, K/32]; streams name.weight / name.scale.
void weights_fp4(const WeightId& id, const char* name, int64_t N, int64_t K, uint8_t* packed, uint8_t* scale);
// FP8 [N, K] (K % 128 == 0): e4m3 codes [N, K], scales ue8m0 [ceil(N/128), K/128].
void weights_fp8(const WeightId& id, const char* name, int64_t N, int64_t K, uint8_t* codes, uint8_t* scale);
// n elements of normal · 2^e (stream name.weight or the exact name given for non-linear tensors).
void weights_bf16(const WeightId& id, const char* tensor, int64_t n, int e, uint16_t* out);
void weights_f32(const WeightId& id, const char* tensor, int64_t n, int e, float* out);
void weights_norm_bf16(const WeightId& id, const char* tensor, int64_t n, uint16_t* out);  // 1 + normal·2^-4
void weights_tid2eid(const WeightId& id, int64_t V, int64_t E, int k, int32_t* out);        // [V, k]

// The mHC parameters of one sublayer ("hc_attn" / "hc_ffn" in layer L, "hc_head" with layer -1):
// fn [rows, n·d] normal · 2^-half_log2(n·d) (a mix of sd ≈ 1.15 for a normalized input); base [rows]:
// normal · 2^-1, plus 2 on the comb diagonal (a near-identity preference); scale [count]: 2^-3 + normal·2^-6.
void weights_mhc(const WeightId& id, const char* prefix, int n, int64_t d, bool head, float* fn, float* base,
                 float* scale);

}  // namespace v4
