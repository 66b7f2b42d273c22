// pmath: launcher of the GPU evaluation of reference/pmath.h (compare/gpu/pmath.cu).
#pragma once
#include <cstdint>

#include "reference/pmath_table.h"

namespace v4::gpu {

// out_bits[i] = bits of f(float from bits base + i), i < n; device pointer. fn: a v4::PmathId, the
// functions and their names are reference/pmath_table.h's (kPmathTable, kPmathCount).
void pmath_eval(int fn, uint32_t base, uint32_t n, uint32_t* out_bits);

}  // namespace v4::gpu
