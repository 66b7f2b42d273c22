// pmath: launcher of the GPU evaluation of reference/pmath.h (compare/gpu/pmath.cu).
#pragma once
#include <cstdint>

namespace v4::gpu {

// Function ids, in this order: exp exp2 log log1p expm1 sigmoid silu softplus rsqrt sqrt sin cos.
inline constexpr const char* kPmathNames[] = {"exp",      "exp2",  "log",  "log1p", "expm1", "sigmoid",
                                              "silu",     "softplus", "rsqrt", "sqrt", "sin",   "cos"};
inline constexpr int kPmathCount = 12;

// out_bits[i] = bits of f(float from bits base + i), i < n; device pointer.
void pmath_eval(int fn, uint32_t base, uint32_t n, uint32_t* out_bits);

}  // namespace v4::gpu
