// cast: GPU kernels for the number formats, built from the same reference/formats.h the CPU uses
// (style.md rule 1), plus the hardware conversion instructions that a kernel may use only where the
// self-test has shown them bitwise equal to the shared definition over every input.
#include "compare/gpu/cast.h"

#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include "reference/formats.h"

namespace v4::gpu {

__global__ void cast_all_kernel(uint32_t base, uint32_t n, CastCodes out) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float x = __uint_as_float(base + i);
  out.bf16[i] = bf16_encode(x);
  out.e4m3_sat[i] = fp8_e4m3_encode(x, Sat::satfinite);
  out.e4m3_nosat[i] = fp8_e4m3_encode(x, Sat::nosat);
  out.e5m2_sat[i] = fp8_e5m2_encode(x, Sat::satfinite);
  out.e5m2_nosat[i] = fp8_e5m2_encode(x, Sat::nosat);
  out.e2m1[i] = fp4_e2m1_encode(x);
  out.ue8m0[i] = ue8m0_encode(x);
}

// Shared definition vs hardware: cvt.rn.bf16.f32 (__float2bfloat16_rn) and cvt.rn.satfinite.e4m3x2 /
// e5m2x2 (what __nv_cvt_float_to_fp8 with __NV_SATFINITE compiles to on sm_90). Counts mismatches per
// conversion (integer atomics: the totals are exact) and keeps the smallest mismatching input.
__global__ void cast_vs_hardware_kernel(uint32_t base, uint32_t n, unsigned long long* mismatches, uint32_t* first) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const uint32_t u = base + i;
  const float x = __uint_as_float(u);
  const __nv_bfloat16 hb = __float2bfloat16_rn(x);
  const uint16_t hw_bf16 = *reinterpret_cast<const uint16_t*>(&hb);
  const uint8_t hw_e4m3 = __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3);
  const uint8_t hw_e5m2 = __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2);
  const bool bad[3] = {hw_bf16 != bf16_encode(x), hw_e4m3 != fp8_e4m3_encode(x, Sat::satfinite),
                       hw_e5m2 != fp8_e5m2_encode(x, Sat::satfinite)};
  for (int k = 0; k < 3; ++k)
    if (bad[k]) {
      atomicAdd(&mismatches[k], 1ull);
      atomicMin(&first[k], u);
    }
}

void cast_all(uint32_t base, uint32_t n, const CastCodes& out) {
  cast_all_kernel<<<(n + 255) / 256, 256>>>(base, n, out);
}
void cast_vs_hardware(uint32_t base, uint32_t n, unsigned long long* mismatches, uint32_t* first) {
  cast_vs_hardware_kernel<<<(n + 255) / 256, 256>>>(base, n, mismatches, first);
}

}  // namespace v4::gpu
