// hadamard: rotate_activation of v4-model.md §2.8: y = bf16(s * H_n x) over the last dimension,
// H_n the Sylvester (natural-order) Walsh-Hadamard matrix H[i][j] = (-1)^popcount(i & j), s = fp32(n^-1/2).
// Canonical evaluation order (fixed here, docs/quantizers.md): x widened to fp32; log2(n) in-place
// butterfly stages with strides 1, 2, 4, ..., n/2, each pair (a, b) -> (a + b, a - b) rounded to fp32;
// then each element multiplied by s (fp32 RN) and rounded to bf16. Rows are independent.
//   x: bf16 codes [rows, n], n a power of two; y: bf16 codes [rows, n].
#pragma once
#include <cstdint>

#include "reference/formats.h"

namespace v4 {

float hadamard_scale(int64_t n);  // fp32(1/sqrt(n)), from a correctly rounded double evaluation

// One row, host and device: x (n,) bf16 codes -> y (n,) bf16 codes, v (n,) fp32 workspace, s = hadamard_scale(n).
V4_HD void hadamard_row(const uint16_t* x, int64_t n, float s, float* v, uint16_t* y) {
  for (int64_t i = 0; i < n; ++i) v[i] = bf16_decode(x[i]);
  for (int64_t h = 1; h < n; h *= 2)
    for (int64_t i = 0; i < n; i += 2 * h)
      for (int64_t j = i; j < i + h; ++j) {
        const float a = v[j], b = v[j + h];
        v[j] = a + b;
        v[j + h] = a - b;
      }
  for (int64_t i = 0; i < n; ++i) y[i] = bf16_encode(v[i] * s);
}

void hadamard(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y);

}  // namespace v4
