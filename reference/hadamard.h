// hadamard: rotate_activation of v4-model.md §2.8: y = bf16(s * H_n x) over the last dimension,
// H_n the Sylvester (natural-order) Walsh-Hadamard matrix H[i][j] = (-1)^popcount(i & j), s = fp32(n^-1/2).
// Canonical evaluation order (fixed here, docs/quantizers.md): x widened to fp32; log2(n) in-place
// butterfly stages with strides 1, 2, 4, ..., n/2, each pair (a, b) -> (a + b, a - b) rounded to fp32;
// then each element multiplied by s (fp32 RN) and rounded to bf16. Rows are independent.
//   x: bf16 codes [rows, n], n a power of two; y: bf16 codes [rows, n].
#pragma once
#include <cstdint>

namespace v4 {

float hadamard_scale(int64_t n);  // fp32(1/sqrt(n)), from a correctly rounded double evaluation
void hadamard(const uint16_t* x, int64_t rows, int64_t n, uint16_t* y);

}  // namespace v4
