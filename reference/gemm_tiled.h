// Internal to the GEMM (components include reference/gemm.h, never this): the entry points of the tiled,
// vectorised kernels (reference/gemm_tiled.cpp) that the public functions of reference/gemm.h run, and the
// two pieces of the exact recipe that those kernels share with the plain loops of reference/gemm.cpp.
// The kernels compute exactly what the plain loops define (tests/test_gemm_tiled.cpp, bit for bit) and
// take arguments already checked by reference/gemm.cpp.
// Outputs: c_f32 (the fp32 accumulator; exact recipe: the exact value rounded to fp32) and/or c_bf16 (the
// bf16 output); a null one is skipped.
#pragma once
#include <cmath>
#include <cstdint>

#include "reference/exact_acc.h"
#include "reference/formats.h"
#include "reference/recipe.h"

namespace v4 {

// ---- Shared by the plain loops and the tiled kernels. ----
// Exponent of the unit of an exact block partial: e4m3 values are multiples of 2^(emin - mantissa bits)
// = 2^-9 and e2m1 values of 2^-1, so an FP8 block partial is an integer times 2^-18, an FP4×FP8 one an
// integer times 2^-10.
inline constexpr int kE4M3UnitExp = kE4M3Emin - kE4M3Mant;
inline constexpr int kFp8PartialExp = 2 * kE4M3UnitExp;
inline constexpr int kFp4PartialExp = kE4M3UnitExp + (kE2M1Emin - kE2M1Mant);

// The exact recipe's step per K-block: adds partial · sa · sb to the exact sum, where partial is an exact
// integer times 2^partial_exp and the scales enter as exponents (exactly, not through an fp32 product).
// A NaN partial or a NaN scale code makes the sum NaN.
inline void exact_add_block(ExactAcc& acc, double partial, int partial_exp, uint8_t sa_code, uint8_t sb_code) {
  if (std::isnan(partial) || sa_code == kUE8M0NaN || sb_code == kUE8M0NaN) return acc.mark_nan();
  acc.add_scaled_int(int64_t(std::ldexp(partial, -partial_exp)),
                     partial_exp + ue8m0_exponent(sa_code) + ue8m0_exponent(sb_code));
}

// The hopper FP8 recipe's promotion (acc += one chain's fp32 partial, on the CUDA cores): IEEE, with the
// canonical NaN 0x7FFFFFFF as the GPU gives it (docs/gemm.md). Not written as `acc + d` alone: x86 addss
// keeps its first operand's NaN payload and the compiler may order a commutative add either way, so the
// plain loops and the tiled kernels gave different NaN bits (a NaN c_init against a NaN partial) in the
// ASan build.
inline float hopper_promote_add(float acc, float d) { return f32_canonical_nan(acc + d); }

namespace gemm_tiled {

// The operands of the FP8 and FP4×FP8 GEMMs (layouts: reference/gemm.h); b is e2m1 packed for FP4.
struct ScaledArgs {
  const uint8_t *a, *a_scale, *b, *b_scale;
  int64_t M, N, K;
};

void fp8_gemm(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16);
void fp4_gemm(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16);
// c_init: the hopper chain's initial accumulator (hopper_bf16_gemm_f32; null: zeros), unused otherwise.
void bf16_gemm(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, const float* c_init,
               float* c_f32, uint16_t* c_bf16);
void f32_gemm(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c);
// hopper_fp8_gemm_f32 of reference/gemm.h.
void hopper_fp8_chains(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K, int64_t promote_every,
                       const float* c_init, float* c);

}  // namespace gemm_tiled
}  // namespace v4
