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

#include "reference/recipe.h"

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
