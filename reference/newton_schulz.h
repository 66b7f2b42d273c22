// Newton-Schulz orthogonalisation for Muon (v4-model.md §15, numerics.md §7, design.md §3 "Muon"):
// Keller Jordan's zeropower_via_newtonschulz5 evaluated op by op in bf16, with a coefficient schedule
// as a parameter, so DeepSeek-V4's hybrid 8 + 2 and Keller's 5 steps are both available by name.
// For X [rows, cols] (transposed first when rows > cols, so the Gram matrix is the smaller one):
//   X0 = bf16(X / bf16(bf16(‖X‖_F) + eps))
//   per step (a, b, c):  A = X·Xᵀ;  B = bf16(b·A) + (c·A)·A;  X = bf16(a·X) + B·X
// with every elementwise result rounded to bf16 and every product a bf16 GEMM with fp32 accumulation
// (reference/gemm.h) under the chosen recipe. docs/newton_schulz.md lists every rounding point.
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "reference/recipe.h"

namespace v4 {

// One quintic step: X <- a·X + b·(XXᵀ)X + c·(XXᵀ)²X. Stored as fp32: PyTorch multiplies a bf16 tensor
// by a Python float in fp32 (the scalar is cast to the fp32 op-math type first).
struct NsCoeffs {
  float a, b, c;
};
inline constexpr NsCoeffs kNsKeller = {3.4445f, -4.7750f, 2.0315f};  // fast growth of small σ
inline constexpr NsCoeffs kNsPin = {2.0f, -1.5f, 0.5f};              // φ(1) = 1, φ'(1) = 0
inline constexpr float kNsEps = 1e-7f;                              // ‖X‖_F + eps (Keller, Moonlight)

// Named schedules. v4_hybrid: 8 × kNsKeller then 2 × kNsPin (DeepSeek-V4 report §2.4);
// keller5: 5 × kNsKeller (KellerJordan/Muon's default).
enum class NsSchedule : int32_t { v4_hybrid = 0, keller5 = 1 };
std::vector<NsCoeffs> ns_schedule(NsSchedule s);
const char* ns_schedule_name(NsSchedule s);
std::optional<NsSchedule> ns_schedule_parse(std::string_view name);

// Σ x² over n bf16 codes, the square of the Frobenius norm. canonical and hopper: fp32 FMA chain in
// storage order (the norm is a CUDA-core reduction, not an MMA); exact: exact sum rounded once.
float ns_sum_squares(const uint16_t* x, int64_t n, Recipe r);

// x: bf16 codes [rows, cols] -> out: bf16 codes [rows, cols] (the orthogonalised matrix, same
// orientation as x). coeffs: `steps` entries applied in order. rows or cols may be 0 (nothing to do).
// trace (optional): receives steps + 1 matrices, X0 and X after every step, each bf16 [R, C] in the
// working orientation (R = min(rows, cols), C = max(rows, cols)): the loop variable a PyTorch
// implementation would dump.
void newton_schulz(const uint16_t* x, int64_t rows, int64_t cols, const NsCoeffs* coeffs, int64_t steps, float eps,
                   Recipe r, uint16_t* out, std::vector<std::vector<uint16_t>>* trace = nullptr);

}  // namespace v4
