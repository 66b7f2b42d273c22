// Device-side plumbing for the runners in compare/gpu/*.cu: checked CUDA calls and an owning device
// buffer. Internal to compare/gpu/ (nvcc only).
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace v4::gpu {

inline void cuda_check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + what + ": " + cudaGetErrorString(e));
}

// The stream runners launch on and copy through: the default stream unless a caller (gpu-check's
// determinism probe) selects another for its thread.
inline cudaStream_t& gpu_stream() {
  static thread_local cudaStream_t s = nullptr;
  return s;
}

// Owns n bytes of device memory; copies go through gpu_stream() and are complete on return (none for n = 0).
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) { cuda_check(cudaMalloc(&p_, n ? n : 1), "cudaMalloc"); }
  DeviceBuffer(const void* host, size_t n) : DeviceBuffer(n) { upload(host); }  // n bytes copied from host
  ~DeviceBuffer() { cudaFree(p_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  template <class T>
  T* as() const { return static_cast<T*>(p_); }
  size_t size() const { return n_; }
  void upload(const void* host) {
    if (n_ == 0) return;  // an empty tensor's host pointer may be null
    cuda_check(cudaMemcpyAsync(p_, host, n_, cudaMemcpyHostToDevice, gpu_stream()), "upload");
    cuda_check(cudaStreamSynchronize(gpu_stream()), "upload");
  }
  void download(void* host) const {
    if (n_ == 0) return;
    cuda_check(cudaMemcpyAsync(host, p_, n_, cudaMemcpyDeviceToHost, gpu_stream()), "download");
    cuda_check(cudaStreamSynchronize(gpu_stream()), "download");
  }

 private:
  void* p_ = nullptr;
  size_t n_;
};

// After a launch: the launch error, then the kernel's own (synchronously).
inline void cuda_check_launch(const char* kernel) {
  cuda_check(cudaGetLastError(), kernel);
  cuda_check(cudaStreamSynchronize(gpu_stream()), kernel);
}

// Blocks of `block` threads that cover n items; callers launch only for n > 0 (a grid of 0 blocks is a
// launch error) and n below 2^31 blocks' worth (std::invalid_argument otherwise).
inline unsigned grid_for(long long n, unsigned block = 256) {
  const long long g = (n + block - 1) / block;
  if (g > 0x7FFFFFFFLL) throw std::invalid_argument("GPU runner: " + std::to_string(n) + " items exceed one grid");
  return unsigned(g);
}

}  // namespace v4::gpu
