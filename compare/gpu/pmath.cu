// pmath: GPU runners of the portable float32 math ops (y = f(x) element-wise), evaluated with the same
// reference/pmath.h the CPU uses, through the one function list (reference/pmath_table.h). The self-test
// compares them with the CPU ops over all 2^32 inputs.
#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "reference/pmath_table.h"

namespace v4::gpu {

namespace {

__global__ void pmath_kernel(int fn, const float* x, long long n, float* y) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = pmath_eval(fn, x[i]);
}

GpuOutputs run_pmath(int fn, const GpuInputs& in) {
  const Tensor& x = gpu_input(in, "x", Fmt::f32);
  Tensor y = Tensor::make(Fmt::f32, x.shape);
  DeviceBuffer dx(x.data.size()), dy(y.data.size());
  dx.upload(x.data.data());
  if (x.numel() > 0) {  // an empty grid is a launch error
    pmath_kernel<<<grid_for(x.numel()), 256, 0, gpu_stream()>>>(fn, dx.as<float>(), x.numel(), dy.as<float>());
    cuda_check_launch("pmath");
  }
  dy.download(y.data.data());
  return gpu_single_output("y", std::move(y));
}

}  // namespace

std::vector<GpuOp> gpu_ops_pmath() {
  std::vector<GpuOp> ops;
  for (int fn = 0; fn < kPmathCount; ++fn)
    ops.push_back({kPmathTable[fn].name, [fn](const GpuInputs& in, Recipe) { return run_pmath(fn, in); }});
  return ops;
}

}  // namespace v4::gpu
