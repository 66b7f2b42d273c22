// Deliberately faulty gpu-check plug-ins for tests/test_gpu_check.cpp, one per BAD_KIND:
//   1 reports ABI version 99;  2 lacks v4o_run;  3 asks for device memory (needs a CUDA build);
//   4 loads, but every v4o_run fails with the reason "deliberate failure".
#include <cstring>

#include "compare/harness/v4oracle_plugin.h"

extern "C" {

const v4o_plugin_info* v4o_info(void) {
  static const v4o_plugin_info info = {BAD_KIND == 1 ? 99 : V4O_PLUGIN_ABI_VERSION, "bad",
                                       BAD_KIND == 3 ? V4O_MEMORY_DEVICE : V4O_MEMORY_HOST};
  return &info;
}

const char* v4o_kernel(const char* op, const char*) { return std::strcmp(op, "bf16_gemm") == 0 ? "bad_kernel" : nullptr; }

#if BAD_KIND != 2
int v4o_run(const char*, const char*, const v4o_tensor*, int32_t, v4o_tensor*, int32_t, void*, char* err, size_t err_len) {
  std::strncpy(err, "deliberate failure", err_len);
  return 1;
}
#endif

}  // extern "C"
