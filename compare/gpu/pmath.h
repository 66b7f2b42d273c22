// pmath: the portable-math functions the GPU runners evaluate (compare/gpu/pmath.cu), by id.
#pragma once

namespace v4::gpu {

// Function ids, in this order: exp exp2 log log1p expm1 sigmoid silu softplus rsqrt sqrt sin cos.
inline constexpr const char* kPmathNames[] = {"exp",      "exp2",  "log",  "log1p", "expm1", "sigmoid",
                                              "silu",     "softplus", "rsqrt", "sqrt", "sin",   "cos"};
inline constexpr int kPmathCount = 12;

}  // namespace v4::gpu
