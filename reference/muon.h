// Muon as DeepSeek-V4 trains its matrices (v4-model.md §15, design.md §3 "Muon"): sum-form momentum,
// Nesterov input, Newton-Schulz (reference/newton_schulz.h), the update rescaled to RMS γ by
// γ·sqrt(max(n, m)), and decoupled weight decay. Per logical matrix W [n, m], in fp32 with the tensor
// ops of Moonlight's Muon (MoonshotAI/Moonlight, examples/toy_train.py), each rounded once:
//   M  = fp32(fp32(μ·M) + G)                         buf.mul_(μ).add_(g)
//   X  = fma(μ, M, G)                                g.add(buf, alpha=μ)    (one fused multiply-add)
//   O' = NS(bf16(X))                                 bf16 [n, m]
//   W  = fp32(W · decay);  W = fma(alpha, O', W)     p.mul_(1 − ηλ); p.add_(O', alpha=−η·γ·sqrt(max(n, m)))
// decay and alpha come from the hyperparameters in binary64 (Python floats), rounded once to fp32 (PyTorch
// casts a Python scalar to the fp32 op-math type). docs/muon.md states every choice.
#pragma once
#include <cstdint>

#include "reference/newton_schulz.h"
#include "reference/recipe.h"

namespace v4 {

// Hyperparameters as a training script holds them (Python floats, binary64).
struct MuonParams {
  double lr = 2.7e-4;          // η (V4-Flash peak)
  double momentum = 0.95;      // μ
  double weight_decay = 0.1;   // λ
  double update_rms = 0.18;    // γ: the update RMS, matched to AdamW's
};

// The fp32 scalars the tensor ops of one step use on a matrix of n x m. A replay gives these directly
// (docs/muon.md shows how PyTorch code arrives at them), so any derivation of them can be checked.
struct MuonScalars {
  float momentum;  // fp32(μ)
  float decay;     // fp32(1 − η·λ)
  float alpha;     // fp32(−η·(γ·sqrt(max(n, m))))
};
MuonScalars muon_scalars(const MuonParams& p, int64_t n, int64_t m);

// One step on one logical matrix, in place.
//   w   f32 [n, m]  master weights   (in/out)
//   mom f32 [n, m]  momentum M       (in/out; zeros before the first step)
//   g   f32 [n, m]  gradient G
//   nesterov_out  f32 [n, m] or null: X = μ·M + G, the Newton-Schulz input before its bf16 cast
//   o_out         bf16 [n, m] or null: O', the Newton-Schulz output (the update is alpha·O')
//   coeffs [ns_steps], ns_eps: the Newton-Schulz schedule (reference/newton_schulz.h)
void muon_step(float* w, float* mom, const float* g, int64_t n, int64_t m, const MuonScalars& s, const NsCoeffs* coeffs,
               int64_t ns_steps, float ns_eps, Recipe r, float* nesterov_out = nullptr, uint16_t* o_out = nullptr);

// A stack of E matrices [E, rows, cols] (one per MoE expert; E = 1 for a dense weight), each split
// along its rows into logical sub-matrices of split_rows[0], split_rows[1], ... rows (their sum is
// rows; a fused projection such as [w1; w3]). Every (expert, sub-matrix) block is an independent
// muon_step with its own n, m and so its own alpha[k] (k = the sub-matrix). All pointers cover
// [E, rows, cols]; the optional outputs likewise.
void muon_step_stack(float* w, float* mom, const float* g, int64_t E, int64_t rows, int64_t cols,
                     const int64_t* split_rows, int64_t nsplit, float momentum, float decay, const float* alpha,
                     const NsCoeffs* coeffs, int64_t ns_steps, float ns_eps, Recipe r, float* nesterov_out = nullptr,
                     uint16_t* o_out = nullptr);

}  // namespace v4
