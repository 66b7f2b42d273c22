// pmath: GPU runners of the portable float32 math ops (y = f(x) element-wise), evaluated with the same
// reference/pmath.h the CPU uses. The self-test compares them with the CPU ops over all 2^32 inputs.
#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "compare/gpu/pmath.h"
#include "reference/pmath.h"

namespace v4::gpu {

namespace {

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

__global__ void pmath_kernel(int fn, const float* x, long long n, float* y) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = pmath_dispatch(fn, x[i]);
}

GpuOutputs run_pmath(int fn, const GpuInputs& in) {
  const Tensor& x = gpu_input(in, "x", Fmt::f32);
  Tensor y = Tensor::make(Fmt::f32, x.shape);
  DeviceBuffer dx(x.data.size()), dy(y.data.size());
  dx.upload(x.data.data());
  pmath_kernel<<<grid_for(x.numel()), 256>>>(fn, dx.as<float>(), x.numel(), dy.as<float>());
  cuda_check_launch("pmath");
  dy.download(y.data.data());
  GpuOutputs out;
  out.emplace_back("y", std::move(y));
  return out;
}

}  // namespace

std::vector<GpuOp> gpu_ops_pmath() {
  std::vector<GpuOp> ops;
  for (int fn = 0; fn < kPmathCount; ++fn)
    ops.push_back({kPmathNames[fn], [fn](const GpuInputs& in, Recipe) { return run_pmath(fn, in); }});
  return ops;
}

}  // namespace v4::gpu
