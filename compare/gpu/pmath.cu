// pmath: GPU evaluation of the portable float32 math functions from the same reference/pmath.h the CPU
// uses. The self-test compares every function's device result with the host result over all 2^32 inputs.
#include "compare/gpu/pmath.h"

#include "reference/pmath.h"

namespace v4::gpu {

__device__ float pmath_dispatch(int fn, float x) {
  switch (fn) {
    case 0: return pmath::exp(x);
    case 1: return pmath::exp2(x);
    case 2: return pmath::log(x);
    case 3: return pmath::log1p(x);
    case 4: return pmath::expm1(x);
    case 5: return pmath::sigmoid(x);
    case 6: return pmath::silu(x);
    case 7: return pmath::softplus(x);
    case 8: return pmath::rsqrt(x);
    case 9: return pmath::sqrt(x);
    case 10: return pmath::sin(x);
    default: return pmath::cos(x);
  }
}

__global__ void pmath_eval_kernel(int fn, uint32_t base, uint32_t n, uint32_t* out) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  out[i] = __float_as_uint(pmath_dispatch(fn, __uint_as_float(base + i)));
}

void pmath_eval(int fn, uint32_t base, uint32_t n, uint32_t* out_bits) {
  pmath_eval_kernel<<<(n + 255) / 256, 256>>>(fn, base, n, out_bits);
}

}  // namespace v4::gpu
