// pmath: GPU evaluation of the portable float32 math functions from the same reference/pmath.h the CPU
// uses. The self-test compares every function's device result with the host result over all 2^32 inputs.
#include "compare/gpu/pmath.h"

namespace v4::gpu {

__global__ void pmath_eval_kernel(int fn, uint32_t base, uint32_t n, uint32_t* out) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = __float_as_uint(v4::pmath_eval(fn, __uint_as_float(base + i)));  // reference/pmath_table.h
}

void pmath_eval(int fn, uint32_t base, uint32_t n, uint32_t* out_bits) {
  pmath_eval_kernel<<<(n + 255) / 256, 256>>>(fn, base, n, out_bits);
}

}  // namespace v4::gpu
