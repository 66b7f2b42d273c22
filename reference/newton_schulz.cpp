// Newton-Schulz orthogonalisation (see newton_schulz.h): the op sequence of Keller Jordan's
// zeropower_via_newtonschulz5 in eager PyTorch, one rounding point per tensor op.
#include "reference/newton_schulz.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "reference/exact_acc.h"
#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/pmath.h"

namespace v4 {

std::vector<NsCoeffs> ns_schedule(NsSchedule s) {
  switch (s) {
    case NsSchedule::v4_hybrid: {
      std::vector<NsCoeffs> v(8, kNsKeller);
      v.push_back(kNsPin);
      v.push_back(kNsPin);
      return v;
    }
    case NsSchedule::keller5: return std::vector<NsCoeffs>(5, kNsKeller);
  }
  throw std::invalid_argument("ns_schedule: unknown schedule " + std::to_string(int(s)));
}
const char* ns_schedule_name(NsSchedule s) {
  switch (s) {
    case NsSchedule::v4_hybrid: return "v4_hybrid";
    case NsSchedule::keller5: return "keller5";
  }
  return "?";
}
std::optional<NsSchedule> ns_schedule_parse(std::string_view name) {
  for (NsSchedule s : {NsSchedule::v4_hybrid, NsSchedule::keller5})
    if (name == ns_schedule_name(s)) return s;
  return std::nullopt;
}

float ns_sum_squares(const uint16_t* x, int64_t n, Recipe r) {
  if (r == Recipe::exact) {
    ExactAcc acc;
    for (int64_t i = 0; i < n; ++i) {
      const float v = bf16_decode(x[i]);
      acc.add_product(v, v);
    }
    return acc.round_to_f32();
  }
  // x² of a bf16 value is exact in fp32 (8 x 8 significant bits), so the fma only rounds the sum.
  float acc = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = bf16_decode(x[i]);
    acc = std::fma(v, v, acc);
  }
  return acc;
}

namespace {

// dst [cols, rows] = srcᵀ, src [rows, cols]; bf16 codes moved, nothing rounded. 64 x 64 tiles keep both
// sides in cache.
void transpose(const uint16_t* src, int64_t rows, int64_t cols, uint16_t* dst) {
  constexpr int64_t T = 64;
#pragma omp parallel for schedule(static)
  for (int64_t j0 = 0; j0 < cols; j0 += T)
    for (int64_t i0 = 0; i0 < rows; i0 += T)
      for (int64_t j = j0; j < std::min(j0 + T, cols); ++j)
        for (int64_t i = i0; i < std::min(i0 + T, rows); ++i) dst[j * rows + i] = src[i * cols + j];
}

// y = bf16(s · x): a bf16 tensor times a Python float, computed in fp32 and rounded once.
void scale_bf16(float s, const uint16_t* x, int64_t n, uint16_t* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_encode(s * bf16_decode(x[i]));
}

// y = bf16(bf16(s · x) + t): `s * x + t` in PyTorch is two ops, each rounded to bf16.
void scale_add_bf16(float s, const uint16_t* x, const uint16_t* t, int64_t n, uint16_t* y) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float sx = bf16_round(s * bf16_decode(x[i]));
    y[i] = bf16_encode(sx + bf16_decode(t[i]));
  }
}

}  // namespace

void newton_schulz(const uint16_t* x, int64_t rows, int64_t cols, const NsCoeffs* coeffs, int64_t steps, float eps,
                   Recipe r, uint16_t* out, std::vector<std::vector<uint16_t>>* trace) {
  if (rows < 0 || cols < 0 || steps < 0)
    throw std::invalid_argument("newton_schulz: negative size (rows=" + std::to_string(rows) +
                                ", cols=" + std::to_string(cols) + ", steps=" + std::to_string(steps) + ")");
  if (trace) trace->clear();
  if (rows == 0 || cols == 0) return;
  if (!x || !out || (steps > 0 && !coeffs)) throw std::invalid_argument("newton_schulz: null pointer");

  // Working orientation: X [R, C] with R <= C, so A = X·Xᵀ is the smaller Gram matrix (R x R).
  const bool tr = rows > cols;
  const int64_t R = tr ? cols : rows, C = tr ? rows : cols;
  const int64_t nx = R * C, na = R * R;
  std::vector<uint16_t> X(nx), Xt(nx), BX(nx);       // [R, C], [C, R], [R, C]
  std::vector<uint16_t> A(na), cA(na), T(na), B(na);  // [R, R] each
  if (tr)
    transpose(x, rows, cols, X.data());
  else
    std::copy(x, x + nx, X.begin());

  // X0 = X / (‖X‖_F + eps): the norm is a bf16 tensor (PyTorch returns the input dtype), the sum
  // eps is another bf16 op, the division a third. Σx² in the input's storage order.
  const float norm = bf16_round(pmath::sqrt(ns_sum_squares(x, nx, r)));
  const float denom = bf16_round(norm + eps);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < nx; ++i) X[i] = bf16_encode(bf16_decode(X[i]) / denom);
  if (trace) trace->push_back(X);

  for (int64_t s = 0; s < steps; ++s) {
    const NsCoeffs k = coeffs[s];
    bf16_gemm(X.data(), X.data(), R, R, C, r, A.data());  // A = X·Xᵀ         [R, R]
    scale_bf16(k.c, A.data(), na, cA.data());               // c·A               [R, R]
    transpose(A.data(), R, R, B.data());                    // Aᵀ as the [N, K] operand (B is scratch here)
    bf16_gemm(cA.data(), B.data(), R, R, R, r, T.data());   // (c·A)·A           [R, R]
    scale_add_bf16(k.b, A.data(), T.data(), na, B.data());  // B = b·A + (c·A)·A [R, R]
    transpose(X.data(), R, C, Xt.data());                   // Xᵀ                [C, R]
    bf16_gemm(B.data(), Xt.data(), R, C, R, r, BX.data());  // B·X               [R, C]
    scale_add_bf16(k.a, X.data(), BX.data(), nx, X.data()); // X = a·X + B·X     [R, C]
    if (trace) trace->push_back(X);
  }

  if (tr)
    transpose(X.data(), R, C, out);
  else
    std::copy(X.begin(), X.end(), out);
}

}  // namespace v4
