// hadamard: the GPU runner of hadamard (reference/hadamard.h): y = bf16(s · H_n x) over the last dimension,
// one thread per row running the CPU's own row function (hadamard_row: the fixed butterfly order), with
// s = hadamard_scale(n) computed on the host, as the CPU does, and passed in.
#include <stdexcept>
#include <string>

#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "reference/hadamard.h"

namespace v4::gpu {

namespace {

// x, y [rows, n] bf16 codes; v [rows, n] fp32 workspace (row r's butterflies run in v + r·n).
__global__ void hadamard_kernel(const uint16_t* x, long long rows, long long n, float s, float* v, uint16_t* y) {
  const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (r < rows) hadamard_row(x + r * n, n, s, v + r * n, y + r * n);
}

GpuOutputs run_hadamard(const GpuInputs& in, Recipe) {
  const Tensor& x = gpu_input(in, "x", Fmt::bf16);
  const auto [rows, n] = gpu_rows_last("x", x);
  if (n <= 0 || (n & (n - 1)))
    throw std::invalid_argument("hadamard: last dimension " + std::to_string(n) + " is not a power of two");
  Tensor y = Tensor::make(Fmt::bf16, x.shape);
  DeviceBuffer dx(x.data.data(), x.data.size()), dv(size_t(rows * n) * sizeof(float)), dy(y.data.size());
  if (rows > 0) {
    hadamard_kernel<<<grid_for(rows, 128), 128, 0, gpu_stream()>>>(dx.as<uint16_t>(), rows, n, hadamard_scale(n),
                                                                    dv.as<float>(), dy.as<uint16_t>());
    cuda_check_launch("hadamard_kernel");
  }
  dy.download(y.data.data());
  return gpu_single_output("y", std::move(y));
}

}  // namespace

std::vector<GpuOp> gpu_ops_hadamard() {
  return {{"hadamard", run_hadamard, [](Recipe) { return std::string("hadamard_kernel"); }}};
}

}  // namespace v4::gpu
