// gpu_candidates.h: GpuOp lists as harness candidates, and the CUDA implementation of the plug-in
// loader's DeviceMemory hook. Streams: 0 is the default stream, 1 and 2 are non-blocking streams created on
// first use (the determinism probe launches on each). Linked whole into v4oracle (cli/CMakeLists.txt), so
// the static registrar at the end of this file runs before main().
#include "compare/gpu/gpu_candidates.h"

#include <cuda_runtime.h>

#include <memory>
#include <stdexcept>

#include "compare/gpu/cublaslt.h"
#include "compare/gpu/cublaslt_ops.h"
#include "compare/gpu/device.cuh"
#include "compare/gpu/fp8_gemm_wgmma.h"
#include "compare/gpu/gpu_op.h"
#include "compare/harness/candidate.h"
#include "compare/harness/device_memory.h"

namespace v4::gpu {

namespace {

constexpr int kStreams = 3;

cudaStream_t stream_for(int k) {
  static cudaStream_t s[kStreams] = {nullptr, nullptr, nullptr};
  if (k < 0 || k >= kStreams) throw std::invalid_argument("GPU candidate: stream " + std::to_string(k) + " out of range");
  if (k > 0 && !s[k]) cuda_check(cudaStreamCreateWithFlags(&s[k], cudaStreamNonBlocking), "cudaStreamCreate");
  return s[k];
}

// Selects the stream runners launch on (device.cuh's gpu_stream()) for one scope.
class StreamScope {
 public:
  explicit StreamScope(int k) : saved_(gpu_stream()) { gpu_stream() = stream_for(k); }
  ~StreamScope() { gpu_stream() = saved_; }

 private:
  cudaStream_t saved_;
};

class GpuOpsCandidate final : public harness::Candidate {
 public:
  GpuOpsCandidate(std::string name, std::vector<GpuOp> ops, bool cublaslt)
      : name_(std::move(name)), ops_(std::move(ops)), cublaslt_(cublaslt) {}
  std::string name() const override { return name_; }
  std::string kernel(const std::string& op, Recipe r) const override {
    const GpuOp* g = find(op);
    return g ? gpu_kernel_name(*g, r) : "";
  }
  harness::Outputs run(const std::string& op, const harness::Inputs& in, const harness::Outputs&, Recipe r,
                       const harness::RunOptions& opt) override {
    const GpuOp* g = find(op);
    if (!g) throw std::invalid_argument(name_ + " has no kernel for op " + op);
    const StreamScope scope(opt.stream);
    harness::Outputs out = g->run(in, r);
    if (cublaslt_) last_ = cublaslt_last_algo();
    return out;
  }
  int streams() const override { return kStreams; }
  std::string device() const override { return gpu_device_name(); }
  std::string last_launch() const override { return last_; }

 private:
  const GpuOp* find(const std::string& op) const {
    for (const GpuOp& g : ops_)
      if (g.name == op) return &g;
    return nullptr;
  }
  std::string name_;
  std::vector<GpuOp> ops_;
  bool cublaslt_;
  std::string last_;
};

// Device memory for V4O_MEMORY_DEVICE plug-ins, on the same streams as the built-in kernels.
class CudaMemory final : public harness::DeviceMemory {
 public:
  void* alloc(size_t bytes) override {
    void* p = nullptr;
    cuda_check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc");
    return p;
  }
  void free(void* p) noexcept override { cudaFree(p); }
  void upload(void* dst, const void* src, size_t bytes, int k) override {
    if (bytes) cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_for(k)), "upload");
  }
  void download(void* dst, const void* src, size_t bytes, int k) override {
    if (bytes) cuda_check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_for(k)), "download");
  }
  void* stream(int k) override { return stream_for(k); }
  void sync(int k) override {
    cuda_check(cudaStreamSynchronize(stream_for(k)), "cudaStreamSynchronize");
    cuda_check(cudaGetLastError(), "plug-in kernel");
  }
  int streams() const override { return kStreams; }
  std::string device() const override { return gpu_device_name(); }
};

// A GPU candidate needs a usable device: without one (no GPU, no driver, a driver older than the
// runtime) making it is bad usage -- one line and exit 2 -- not an internal error.
void require_device(const std::string& spec) {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n == 0)
    throw std::invalid_argument("candidate " + spec + ": no usable CUDA device (" +
                                (e != cudaSuccess ? std::string(cudaGetErrorString(e)) : std::string("no device")) + ")");
}

}  // namespace

void register_gpu_candidates() {
  harness::register_candidate(
      "builtin", "the built-in CUDA kernels (compare/gpu/, docs/gpu.md); builtin:cudacore runs fp8_gemm's hopper recipe through the wgmma model on CUDA cores instead of the tensor cores",
      [](const std::string& arg) {
        if (!arg.empty() && arg != "cudacore")
          throw std::invalid_argument("candidate builtin takes no argument or :cudacore (got '" + arg + "')");
        require_device(arg.empty() ? "builtin" : "builtin:" + arg);
        std::vector<GpuOp> ops = arg == "cudacore" ? gpu_ops_cudacore() : gpu_op_registry();
        return std::unique_ptr<harness::Candidate>(new GpuOpsCandidate(arg.empty() ? "builtin" : "builtin:" + arg, ops, false));
      });
  harness::register_candidate(
      "cublaslt", "cuBLASLt, loaded at run time; cublaslt:tensorwise and cublaslt:tensorwise-fastaccum for per-tensor FP8 scales",
      [](const std::string& arg) {
        require_device(arg.empty() ? "cublaslt" : "cublaslt:" + arg);
        if (!cublaslt_status().available) throw std::invalid_argument("candidate cublaslt: " + cublaslt_status().detail);
        return std::unique_ptr<harness::Candidate>(
            new GpuOpsCandidate(arg.empty() ? "cublaslt" : "cublaslt:" + arg, cublaslt_ops(arg), true));
      });
}

namespace {
const bool kRegistered = [] {
  register_gpu_candidates();
  static CudaMemory memory;
  harness::set_device_memory(&memory);
  return true;
}();
}  // namespace

}  // namespace v4::gpu
