// weight_dequant: the GPU runner of weight_dequant (reference/weight_dequant.h): e4m3 weights with
// 128×128-tile ue8m0 scales, or packed e2m1 weights with 1×32 ue8m0 scales, to bf16, one thread per
// output through the CPU's own element functions (weight_dequant_fp8_element / _fp4_element).
#include <stdexcept>
#include <string>

#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "reference/weight_dequant.h"

namespace v4::gpu {

namespace {

// y [rows, cols] bf16 from w (fp8: e4m3 [rows, cols]; fp4: e2m1 packed [rows, cols/2]) and scale
// (fp8: [ceil(rows/128), ceil(cols/128)]; fp4: [rows, cols/32]); one thread per element of y.
template <bool Fp4>
__global__ void weight_dequant_kernel(const uint8_t* w, const uint8_t* scale, long long rows, long long cols,
                                      uint16_t* y) {
  const long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (e >= rows * cols) return;
  const long long i = e / cols, j = e % cols;
  if constexpr (Fp4) {
    y[e] = weight_dequant_fp4_element(fp4_e2m1_get(w + i * fp4_e2m1_row_bytes(cols), j),
                                      scale[i * (cols / kFp4Block) + j / kFp4Block]);
  } else {
    y[e] = weight_dequant_fp8_element(w[e], scale[(i / kFp8Block) * ceil_div(cols, kFp8Block) + j / kFp8Block]);
  }
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("weight_dequant: " + what);
}

GpuOutputs run_weight_dequant(const GpuInputs& in, Recipe) {
  // The format of w selects the rule, as in the CPU op.
  const auto wi = in.find("w");
  const bool fp4 = wi != in.end() && wi->second->fmt == Fmt::e2m1x2;
  const Tensor& w = gpu_input(in, "w", fp4 ? Fmt::e2m1x2 : Fmt::e4m3fn);
  const Tensor& s = gpu_input(in, "scale", Fmt::ue8m0);
  require(w.shape.size() == 2 && s.shape.size() == 2, "w and scale must have rank 2");
  const int64_t rows = w.shape[0], cols = w.shape[1];
  require(rows > 0 && cols > 0, "empty weight");  // as reference/weight_dequant.cpp
  if (fp4) {
    require(cols % kFp4Block == 0, "columns " + std::to_string(cols) + " not a multiple of 32");
    require(s.shape[0] == rows && s.shape[1] == cols / kFp4Block, "scale must be [rows, cols/32]");
  } else {
    require(s.shape[0] == ceil_div(rows, kFp8Block) && s.shape[1] == ceil_div(cols, kFp8Block),
            "scale must be [ceil(rows/128), ceil(cols/128)]");
  }
  Tensor y = Tensor::make(Fmt::bf16, w.shape);
  DeviceBuffer dw(w.data.data(), w.data.size()), ds(s.data.data(), s.data.size()), dy(y.data.size());
  const unsigned grid = grid_for(rows * cols);
  if (fp4)
    weight_dequant_kernel<true><<<grid, 256, 0, gpu_stream()>>>(dw.as<uint8_t>(), ds.as<uint8_t>(), rows, cols,
                                                                dy.as<uint16_t>());
  else
    weight_dequant_kernel<false><<<grid, 256, 0, gpu_stream()>>>(dw.as<uint8_t>(), ds.as<uint8_t>(), rows, cols,
                                                                 dy.as<uint16_t>());
  cuda_check_launch("weight_dequant_kernel");
  dy.download(y.data.data());
  return gpu_single_output("y", std::move(y));
}

}  // namespace

std::vector<GpuOp> gpu_ops_weight_dequant() {
  return {{"weight_dequant", run_weight_dequant, [](Recipe) { return std::string("weight_dequant_kernel"); }}};
}

}  // namespace v4::gpu
