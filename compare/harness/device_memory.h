// The device-memory hook of the plug-in loader: a plug-in whose v4o_plugin_info.memory is
// V4O_MEMORY_DEVICE takes device pointers and a cudaStream_t, which only a CUDA build can provide.
// compare/gpu/ implements DeviceMemory with the CUDA runtime and installs it with set_device_memory()
// before any candidate is made; without one (the CPU build), loading a device plug-in is
// std::invalid_argument naming the build option. C++17-clean, no CUDA types: pointers are void*.
#pragma once
#include <cstddef>
#include <string>

namespace v4::harness {

class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  virtual void* alloc(size_t bytes) = 0;             // device allocation; std::runtime_error on failure
  virtual void free(void* p) noexcept = 0;           // p from alloc (null: nothing)
  virtual void upload(void* dst, const void* src, size_t bytes, int stream) = 0;    // host -> device
  virtual void download(void* dst, const void* src, size_t bytes, int stream) = 0;  // device -> host
  virtual void* stream(int k) = 0;  // the cudaStream_t of stream k (0: the default stream), as void*
  virtual void sync(int k) = 0;     // waits for stream k; std::runtime_error on a device error
  virtual int streams() const = 0;  // distinct streams stream() hands out (>= 1)
  virtual std::string device() const = 0;  // "NVIDIA H200 (sm_90)"
};

// Installs the hook (not owned; it must outlive every candidate made after this call); null removes it.
void set_device_memory(DeviceMemory* m);
DeviceMemory* device_memory();  // null in a build without CUDA

}  // namespace v4::harness
