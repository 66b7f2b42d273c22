// Host/device plumbing shared by every header that is compiled both by the C++ reference and by nvcc.
// Nothing here has numeric meaning beyond single IEEE operations; it only lets one definition serve both
// sides (style.md rule 1).
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define V4_HD __host__ __device__ inline
#else
#define V4_HD inline
#endif

namespace v4 {

V4_HD uint32_t f32_bits(float f) {
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
}
V4_HD float f32_from_bits(uint32_t u) {
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
}
V4_HD uint64_t f64_bits(double d) {
  uint64_t u;
  __builtin_memcpy(&u, &d, sizeof u);
  return u;
}
V4_HD double f64_from_bits(uint64_t u) {
  double d;
  __builtin_memcpy(&d, &u, sizeof d);
  return d;
}
// a·b + c rounded once (IEEE fusedMultiplyAdd, float32): where the reference writes std::fma. Device: the
// intrinsic, which nvcc never splits or reorders; host: the builtin (an FMA instruction or libm's fmaf).
V4_HD float f32_fma(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fmaf_rn(a, b, c);
#else
  return __builtin_fmaf(a, b, c);
#endif
}
V4_HD bool f32_is_nan(float f) { return (f32_bits(f) & 0x7FFFFFFFu) > 0x7F800000u; }

// ceil(a / b) for a >= 0, b > 0: block counts (scale rows, K-blocks, tiles) on host and device.
V4_HD constexpr int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// 2^e as float32 for e in [-149, 127], built from bits (no libm, exact).
V4_HD float f32_pow2(int e) {
  if (e >= -126) return f32_from_bits(uint32_t(e + 127) << 23);
  return f32_from_bits(1u << (e + 149));
}

}  // namespace v4
