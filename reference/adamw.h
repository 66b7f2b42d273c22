// AdamW for the parameters DeepSeek-V4 does not train with Muon (v4-model.md §15: embedding, prediction
// head, mHC static biases and gating factors, RMSNorm weights; attn_sink by inference). The common
// definition (Loshchilov & Hutter; torch.optim.AdamW) with bias correction, evaluated with the tensor
// ops of PyTorch's AdamW (foreach or single-tensor, capturable=False, fused=False, amsgrad=False),
// each rounded once to fp32, per element, for update number t = 1, 2, ...:
//   W  = fp32(W · fp32(1 − η·λ))                               param.mul_(1 − lr·wd)
//   m  = fma(fp32(1 − β1), fp32(G − m), m)                      exp_avg.lerp_(grad, 1 − β1)
//   v  = fma(fp32(1 − β2), fp32(G·G), fp32(β2·v))               exp_avg_sq.mul_(β2).addcmul_(grad, grad, 1 − β2)
//   d  = fp32(fp32(fp32(sqrt(v)) / fp32(sqrt(1 − β2^t))) + ε)   (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
//   W  = fma(fp32(−η / (1 − β1^t)), fp32(m / d), W)             param.addcdiv_(exp_avg, denom, −step_size)
// β^t, 1 − β^t, its square root and η / (1 − β1^t) in binary64 (Python floats), then rounded to fp32.
// docs/adamw.md states every choice.
#pragma once
#include <cstdint>

namespace v4 {

// Hyperparameters as a training script holds them (Python floats, binary64).
struct AdamWParams {
  double lr = 2.7e-4;         // η
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-20;         // V4's ε (PyTorch's default is 1e-8)
  double weight_decay = 0.1;  // λ
};

// The fp32 scalars the tensor ops of update number t (t >= 1) use. A replay gives these directly
// (docs/adamw.md shows how PyTorch arrives at them), so any derivation of them can be checked.
struct AdamWScalars {
  float decay;     // fp32(1 − η·λ)
  float w1;        // fp32(1 − β1), the lerp weight
  float beta2;     // fp32(β2)
  float w2;        // fp32(1 − β2)
  float bc2_sqrt;  // fp32(sqrt(1 − β2^t))
  float eps;       // fp32(ε)
  float neg_step;  // fp32(−η / (1 − β1^t))
};
AdamWScalars adamw_scalars(const AdamWParams& p, int64_t t);

// One update of n elements, in place. w: f32 [n]; m, v: f32 [n] (zeros before the first update); g: f32 [n].
void adamw_step(float* w, float* m, float* v, const float* g, int64_t n, const AdamWScalars& s);

}  // namespace v4
