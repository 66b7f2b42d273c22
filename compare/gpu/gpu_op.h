// GPU runners: each computes one op of golden's registry (golden/ops/) on the device, from the same named
// inputs and to the same named outputs, so one harness runs any op on CPU and GPU and diffs the two with
// the comparator (v4oracle_gpu_selftest). A stem's runners live in compare/gpu/<stem>.cu as
// `std::vector<GpuOp> gpu_ops_<stem>()`, listed once in gpu_op_list.h. C++17 and no HDF5, so nvcc
// compiles it; kernels take raw device pointers and shapes.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "reference/recipe.h"
#include "reference/tensor.h"

namespace v4::gpu {

using GpuInputs = std::map<std::string, const Tensor*>;           // the CPU op's consumed inputs, by name
using GpuOutputs = std::vector<std::pair<std::string, Tensor>>;  // named as the CPU op names them

struct GpuOp {
  std::string name;  // the op's name in golden's registry
  // Launches on gpu_stream() (device.cuh) and returns when the outputs are on the host. Throws
  // std::invalid_argument for inputs or a recipe it does not take.
  std::function<GpuOutputs(const GpuInputs&, Recipe)> run;
  // The kernel that computes the op under a recipe ("fp8_gemm_wgmma_128x128"), or "" where the runner
  // does not implement that recipe. Unset: the op has one definition and `name` + "_kernel" runs it.
  std::function<std::string(Recipe)> kernel;
};

// The kernel name a runner reports for recipe r (its `kernel`, or the default above).
std::string gpu_kernel_name(const GpuOp& op, Recipe r);

const std::vector<GpuOp>& gpu_op_registry();
const GpuOp* gpu_op_find(const std::string& name);

// The input `name` in format fmt; std::invalid_argument naming it otherwise.
const Tensor& gpu_input(const GpuInputs& in, const std::string& name, Fmt fmt);

// A runner's outputs when the op has one: {name, t}.
GpuOutputs gpu_single_output(const std::string& name, Tensor t);

// (rows, last) of a tensor of rank >= 1 viewed as rows × its last dimension (rows = 0 when the last
// dimension is 0), as golden's OpInputs::rows_last; std::invalid_argument naming input `name` for a scalar.
std::pair<int64_t, int64_t> gpu_rows_last(const std::string& name, const Tensor& t);

std::string gpu_device_name();  // "NVIDIA H200 (sm_90)"; std::runtime_error without a device

}  // namespace v4::gpu
