// cast: GPU runners of the format ops (bf16, fp8_e4m3, fp8_e5m2, fp4_e2m1, ue8m0: x f32 -> codes, values),
// built from the same reference/formats.h the CPU uses (style.md rule 1), plus the hardware conversion
// instructions, which a kernel may use only where the self-test has shown them bitwise equal to the
// shared definition over every input.
#include <cuda_bf16.h>
#include <cuda_fp8.h>

#include <algorithm>

#include "compare/gpu/cast.h"
#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "reference/formats.h"

namespace v4::gpu {

namespace {

template <Fmt F>
__device__ uint32_t encode(float x) {
  if constexpr (F == Fmt::bf16) return bf16_encode(x);
  else if constexpr (F == Fmt::e4m3fn) return fp8_e4m3_encode(x, Sat::satfinite);
  else if constexpr (F == Fmt::e5m2) return fp8_e5m2_encode(x, Sat::satfinite);
  else if constexpr (F == Fmt::e2m1x2) return fp4_e2m1_encode(x);
  else return ue8m0_encode(x);
}
template <Fmt F>
__device__ float decode(uint32_t c) {
  if constexpr (F == Fmt::bf16) return bf16_decode(uint16_t(c));
  else if constexpr (F == Fmt::e4m3fn) return fp8_e4m3_decode(uint8_t(c));
  else if constexpr (F == Fmt::e5m2) return fp8_e5m2_decode(uint8_t(c));
  else if constexpr (F == Fmt::e2m1x2) return fp4_e2m1_decode(uint8_t(c));
  else return ue8m0_decode(uint8_t(c));
}

// One thread per element: x [n] -> codes [n] (uint16 or uint8 storage), values [n].
template <Fmt F, class C>
__global__ void cast_kernel(const float* x, long long n, C* codes, float* values) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const uint32_t c = encode<F>(x[i]);
  codes[i] = C(c);
  values[i] = decode<F>(c);
}

// e2m1x2: one thread per stored byte of rows of `last` elements; element 2k of a row in the low nibble,
// an odd row's last high nibble 0 (reference/tensor.h).
__global__ void cast_e2m1_kernel(const float* x, long long rows, long long last, uint8_t* packed, float* values) {
  const long long per_row = fp4_e2m1_row_bytes(last);
  const long long j = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= rows * per_row) return;
  const long long r = j / per_row, c0 = 2 * (j % per_row);
  uint8_t byte = 0;  // elements c0, c0+1 of row r: positions 0 and 1 of a one-byte row
  for (int h = 0; h < 2 && c0 + h < last; ++h) {
    const uint8_t code = fp4_e2m1_encode(x[r * last + c0 + h]);
    fp4_e2m1_set(&byte, h, code);
    values[r * last + c0 + h] = fp4_e2m1_decode(code);
  }
  packed[j] = byte;
}

template <Fmt F>
GpuOutputs run_cast(const GpuInputs& in, Recipe) {
  const Tensor& x = gpu_input(in, "x", Fmt::f32);
  Tensor codes = Tensor::make(F, x.shape), values = Tensor::make(Fmt::f32, x.shape);
  const long long n = x.numel();
  DeviceBuffer dx(x.data.size()), dc(codes.data.size()), dv(values.data.size());
  dx.upload(x.data.data());
  if (n > 0) {  // an empty grid is a launch error
    if constexpr (F == Fmt::e2m1x2) {
      const long long last = x.shape.empty() ? 1 : x.shape.back(), rows = last ? n / last : 0;
      cast_e2m1_kernel<<<grid_for(rows * fp4_e2m1_row_bytes(last)), 256, 0, gpu_stream()>>>(
          dx.as<float>(), rows, last, dc.as<uint8_t>(), dv.as<float>());
    } else if constexpr (F == Fmt::bf16) {
      cast_kernel<F><<<grid_for(n), 256, 0, gpu_stream()>>>(dx.as<float>(), n, dc.as<uint16_t>(), dv.as<float>());
    } else {
      cast_kernel<F><<<grid_for(n), 256, 0, gpu_stream()>>>(dx.as<float>(), n, dc.as<uint8_t>(), dv.as<float>());
    }
    cuda_check_launch("cast");
  }
  dc.download(codes.data.data());
  dv.download(values.data.data());
  GpuOutputs out;
  out.emplace_back("codes", std::move(codes));
  out.emplace_back("values", std::move(values));
  return out;
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

}  // namespace

void cast_vs_hardware(uint32_t base, uint32_t n, unsigned long long mismatches[3], uint32_t first[3]) {
  DeviceBuffer dm(3 * sizeof(unsigned long long)), df(3 * sizeof(uint32_t));
  dm.upload(mismatches);
  df.upload(first);
  cast_vs_hardware_kernel<<<grid_for(n), 256>>>(base, n, dm.as<unsigned long long>(), df.as<uint32_t>());
  cuda_check_launch("cast_vs_hardware");
  dm.download(mismatches);
  df.download(first);
}

std::vector<GpuOp> gpu_ops_cast() {
  return {{"bf16", run_cast<Fmt::bf16>},
          {"fp8_e4m3", run_cast<Fmt::e4m3fn>},
          {"fp8_e5m2", run_cast<Fmt::e5m2>},
          {"fp4_e2m1", run_cast<Fmt::e2m1x2>},
          {"ue8m0", run_cast<Fmt::ue8m0>}};
}

}  // namespace v4::gpu
