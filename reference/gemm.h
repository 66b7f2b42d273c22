// GEMM recipes (design.md §3): C[M,N] = A[M,K]·B[N,K]ᵀ for the FP8, FP4×FP8, bf16 and fp32 linears of
// DeepSeek-V4 (v4-model.md §2.5-2.7), each under one of three recipes:
//   canonical  exact K-block partials (128 for FP8, 32 for FP4) rounded once to fp32, promoted in
//              ascending K-block order with one fused multiply-add; bf16/fp32: sequential fp32 FMA in k;
//   hopper     Hopper wgmma emulation (reference/wgmma_model.h) inside each block, promoted as canonical;
//   exact      every dot product exact, rounded once (to fp32, or directly to bf16 for bf16 outputs).
// docs/gemm.md states every numeric decision. All pointers are raw, row-major, densely packed.
// Parallel (OpenMP) over independent outputs only: bit-identical for any thread count.
// Two implementations, one result: the functions run tiled, vectorised kernels (reference/gemm_tiled.cpp);
// each has a *_plain twin (end of this file) that runs the plain loops of reference/gemm.cpp, the readable
// definition of every recipe. tests/test_gemm_tiled.cpp proves the two bit-identical.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/recipe.h"
#include "reference/wgmma_model.h"

namespace v4 {

// A: e4m3fn codes [M, K], a_scale: ue8m0 codes [M, K/128]; B: e4m3fn codes [N, K],
// b_scale: ue8m0 codes [ceil(N/128), K/128]. K % 128 == 0 (std::invalid_argument otherwise). Out: bf16 codes.
void fp8_gemm(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
              int64_t N, int64_t K, Recipe r, uint16_t* c_bf16);
// A as in fp8_gemm; B: e2m1 packed [N, K/2] (element 2k in the low nibble), b_scale: ue8m0 [N, K/32].
void fp4_gemm(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
              int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16);
// bf16 codes in, bf16 codes out (fp32 accumulation); any K >= 0.
void bf16_gemm(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16);
// fp32 in, fp32 out; any K >= 0.
void f32_gemm(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c);

// ---- The fp32 accumulators before the output cast (validation, tests, kernels that keep fp32). ----
// canonical / hopper: the fp32 accumulator that fp8_gemm / fp4_gemm / bf16_gemm round to bf16 (their
// output is exactly bf16_encode of it). exact: the exact dot product rounded once to fp32 -- the bf16
// output of the exact recipe is rounded directly from the exact value instead, so it can differ from
// bf16_encode of this in double-rounding cases (docs/gemm.md).
void fp8_gemm_f32acc(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale,
                     int64_t M, int64_t N, int64_t K, Recipe r, float* c);
void fp4_gemm_f32acc(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                     int64_t M, int64_t N, int64_t K, Recipe r, float* c);
void bf16_gemm_f32acc(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c);

// ---- Unscaled Hopper wgmma chains with fp32 output (the GPU validation, docs/gemm.md). ----
// e4m3 A [M,K], B [N,K], K % 32 == 0. promote_every == 0: one chain of k32 instructions over all of K,
// starting from c_init (cuBLASLt use_fast_accum=True, Triton's default on sm_90). promote_every == P
// (a multiple of 32 dividing K): each P-wide K group is a chain from zero, added to the fp32
// accumulator (initially c_init) with one RN add (cuBLASLt default, DeepGEMM with unit scales,
// Triton max_num_imprecise_acc=P). c_init may be null (zeros).
void hopper_fp8_gemm_f32(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K,
                         int64_t promote_every, const float* c_init, float* c);
// bf16 A [M,K], B [N,K]: one chain of k16 instructions over all of K from c_init (null: zeros);
// K % 16 != 0 is padded with zero products.
void hopper_bf16_gemm_f32(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K,
                          const float* c_init, float* c);

// ---- One output's steps, host and device: the plain loops of reference/gemm.cpp and the CUDA-core
// kernels of compare/gpu/gemm.cu run these, so each recipe step is written once (style.md rule 1).
// a, b: (n,) a piece of row m of A and row n of B as fp32 values (every e4m3, e2m1 and bf16 value is one).

// The exact sum of the n products of one FP8 (n = 128) or FP4×FP8 (n = 32) K-block: binary64 holds every
// partial sum exactly (reference/gemm.cpp, file comment), so the result does not depend on the order.
V4_HD double gemm_block_sum(const float* a, const float* b, int n) {
  double p = 0.0;
  for (int k = 0; k < n; ++k) p += double(a[k]) * double(b[k]);
  return p;
}
// The fp32 partial of one FP8 128-block: canonical, the exact block sum rounded once; hopper, 4 chained
// k32 instructions from zero (reference/wgmma_model.h). Not for the exact recipe.
V4_HD float gemm_fp8_block_partial(const float* a, const float* b, Recipe r) {
  if (r != Recipe::hopper) return float(gemm_block_sum(a, b, kFp8Block));
  float d = 0.0f;
  for (int q = 0; q < kFp8Block; q += kWgmmaE4M3K)
    d = wgmma_dot_add_values(kWgmmaE4M3, kWgmmaE4M3K, a + q, b + q, kWgmmaE4M3K, d);
  return d;
}
// The fp32 partial of one FP4×FP8 32-block: canonical as FP8; hopper, one k32 FP8 instruction from zero
// (the e2m1 values converted exactly to e4m3: Hopper has no FP4 MMA).
V4_HD float gemm_fp4_block_partial(const float* a, const float* b, Recipe r) {
  static_assert(kFp4Block == kWgmmaE4M3K, "hopper: one k32 FP8 instruction covers one FP4 block");
  if (r != Recipe::hopper) return float(gemm_block_sum(a, b, kFp4Block));
  return wgmma_dot_add_values(kWgmmaE4M3, kWgmmaE4M3K, a, b, kFp4Block, 0.0f);
}
// FP8 promotion, K-blocks in ascending order: acc = fma(p, fp32(sa·sb), acc) (fp32(sa·sb): one IEEE
// multiply, as the kernels). sa, sb: ue8m0 codes of the block's activation and weight scales.
V4_HD float gemm_fp8_promote(float acc, float p, uint8_t sa, uint8_t sb) {
  return f32_fma(p, ue8m0_decode(sa) * ue8m0_decode(sb), acc);
}
// FP4×FP8 promotion: acc = fma(fp32(p·sa), sb, acc), the kernel's (p·sa)·sb with the last multiply-add fused.
V4_HD float gemm_fp4_promote(float acc, float p, uint8_t sa, uint8_t sb) {
  const float t = p * ue8m0_decode(sa);
  return f32_fma(t, ue8m0_decode(sb), acc);
}
// bf16 / fp32 canonical: the sequential fp32 FMA chain acc = fma(a[k], b[k], acc), k ascending, continued
// from acc (so a chain over K may be run in consecutive pieces).
V4_HD float gemm_fma_chain(const float* a, const float* b, int64_t n, float acc) {
  for (int64_t k = 0; k < n; ++k) acc = f32_fma(a[k], b[k], acc);
  return acc;
}
// bf16 hopper: one chain of k16 instructions over the n products, continued from d, the last instruction
// padded with zero products (pieces of a longer chain must start at multiples of 16).
V4_HD float gemm_bf16_wgmma_chain(const float* a, const float* b, int64_t n, float d) {
  for (int64_t k0 = 0; k0 < n; k0 += kWgmmaBF16K)
    d = wgmma_dot_add_values(kWgmmaBF16, kWgmmaBF16K, a + k0, b + k0, n - k0, d);
  return d;
}

// ---- The plain loops: same arguments, checks and bits as the function without _plain. ----
// Per output, per K-block in ascending order, one recipe step per line (reference/gemm.cpp): what to read,
// and an independent second computation; up to ~50x slower than the tiled kernels above (docs/gemm.md).
void fp8_gemm_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
                    int64_t N, int64_t K, Recipe r, uint16_t* c_bf16);
void fp4_gemm_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                    int64_t M, int64_t N, int64_t K, Recipe r, uint16_t* c_bf16);
void bf16_gemm_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r,
                     uint16_t* c_bf16);
void f32_gemm_plain(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c);
void fp8_gemm_f32acc_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale,
                           int64_t M, int64_t N, int64_t K, Recipe r, float* c);
void fp4_gemm_f32acc_plain(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b_packed, const uint8_t* b_scale,
                           int64_t M, int64_t N, int64_t K, Recipe r, float* c);
void bf16_gemm_f32acc_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r,
                            float* c);
void hopper_fp8_gemm_f32_plain(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K,
                               int64_t promote_every, const float* c_init, float* c);
void hopper_bf16_gemm_f32_plain(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K,
                                const float* c_init, float* c);

}  // namespace v4
