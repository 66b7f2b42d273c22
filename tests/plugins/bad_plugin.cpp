// Deliberately faulty gpu-check plug-ins for tests/test_gpu_check.cpp, one per BAD_KIND:
//   1 reports ABI version 99;  2 lacks v4o_run;  3 asks for device memory (needs a CUDA build);
//   4 loads, but every v4o_run fails with the reason "deliberate failure";
//   5 a device-memory plug-in for a test's host-backed DeviceMemory: writes the low 16 bits of the stream
//     handle it was given into every element of output c (bf16) and checks that inputs arrived.
#include <cstring>

#include "compare/harness/v4oracle_plugin.h"

extern "C" {

const v4o_plugin_info* v4o_info(void) {
  static const v4o_plugin_info info = {BAD_KIND == 1 ? 99 : V4O_PLUGIN_ABI_VERSION, "bad",
                                       BAD_KIND == 3 || BAD_KIND == 5 ? V4O_MEMORY_DEVICE : V4O_MEMORY_HOST};
  return &info;
}

const char* v4o_kernel(const char* op, const char*) { return std::strcmp(op, "bf16_gemm") == 0 ? "bad_kernel" : nullptr; }

#if BAD_KIND == 5
int v4o_run(const char*, const char*, const v4o_tensor* in, int32_t n_in, v4o_tensor* out, int32_t n_out, void* stream,
            char* err, size_t err_len) {
  if (n_in < 2 || n_out != 1 || !in[0].data || std::strcmp(out[0].fmt, "bf16") != 0) {
    std::strncpy(err, "unexpected tensors", err_len);
    return 1;
  }
  uint16_t* c = static_cast<uint16_t*>(out[0].data);
  for (int64_t i = 0; i < out[0].shape[0] * out[0].shape[1]; ++i) c[i] = uint16_t(reinterpret_cast<uintptr_t>(stream));
  return 0;
}
#elif BAD_KIND != 2
int v4o_run(const char*, const char*, const v4o_tensor*, int32_t, v4o_tensor*, int32_t, void*, char* err, size_t err_len) {
  std::strncpy(err, "deliberate failure", err_len);
  return 1;
}
#endif

}  // extern "C"
