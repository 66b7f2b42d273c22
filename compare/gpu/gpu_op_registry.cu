// The GPU runner registry (gpu_op.h): every stem's runners, concatenated from gpu_op_list.h.
#include <stdexcept>

#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "compare/gpu/gpu_op_list.h"

namespace v4::gpu {

#define V4_DECLARE_GPU_OPS(stem) std::vector<GpuOp> gpu_ops_##stem();
V4_GPU_OP_STEMS(V4_DECLARE_GPU_OPS)
#undef V4_DECLARE_GPU_OPS

const std::vector<GpuOp>& gpu_op_registry() {
  static const std::vector<GpuOp> all = [] {
    std::vector<GpuOp> v;
#define V4_ADD_GPU_OPS(stem) \
  for (GpuOp& op : gpu_ops_##stem()) v.push_back(std::move(op));
    V4_GPU_OP_STEMS(V4_ADD_GPU_OPS)
#undef V4_ADD_GPU_OPS
    return v;
  }();
  return all;
}

const GpuOp* gpu_op_find(const std::string& name) {
  for (const GpuOp& op : gpu_op_registry())
    if (op.name == name) return &op;
  return nullptr;
}

const Tensor& gpu_input(const GpuInputs& in, const std::string& name, Fmt fmt) {
  const auto it = in.find(name);
  if (it == in.end()) throw std::invalid_argument("GPU runner: input /" + name + " missing");
  if (it->second->fmt != fmt)
    throw std::invalid_argument("GPU runner: input /" + name + " is " + fmt_name(it->second->fmt) + ", expected " +
                                fmt_name(fmt));
  return *it->second;
}

GpuOutputs gpu_single_output(const std::string& name, Tensor t) {
  GpuOutputs out;
  out.emplace_back(name, std::move(t));
  return out;
}

std::pair<int64_t, int64_t> gpu_rows_last(const std::string& name, const Tensor& t) {
  if (t.shape.empty()) throw std::invalid_argument("GPU runner: input /" + name + " is a scalar, expected rank >= 1");
  const int64_t n = t.shape.back();
  return {n == 0 ? 0 : t.numel() / n, n};
}

std::string gpu_kernel_name(const GpuOp& op, Recipe r) { return op.kernel ? op.kernel(r) : op.name + "_kernel"; }

std::string gpu_device_name() {
  cudaDeviceProp prop{};
  cuda_check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
}

}  // namespace v4::gpu
