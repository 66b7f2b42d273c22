/* v4oracle kernel plug-in ABI, version 1 (docs/gpu-check.md). A plug-in is a shared library that
 * exports the three functions below with C linkage; `v4oracle gpu-check --candidate plugin:LIB.so`
 * loads it with dlopen, allocates every input and output where the plug-in asks (host or device memory),
 * and calls v4o_run once per launch. Plain C, no v4oracle headers needed: copy this file into your project.
 *
 * Tensors are dense, row-major. `fmt` names the element format as in docs/cli.md: "float32", "bf16",
 * "e4m3fn", "e5m2", "e2m1x2" (two e2m1 codes per byte, element 2k in the low nibble; shape counts
 * elements, the last dimension's bytes are ceil(n/2)), "ue8m0", "int32". Outputs arrive allocated with the
 * golden's shapes and formats; the plug-in writes every element. */
#ifndef V4ORACLE_PLUGIN_H
#define V4ORACLE_PLUGIN_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define V4O_PLUGIN_ABI_VERSION 1
#define V4O_MAX_RANK 8

enum v4o_memory { V4O_MEMORY_HOST = 0, V4O_MEMORY_DEVICE = 1 };

typedef struct {
  const char* name; /* the op's dataset name without '/', e.g. "a", "a_scale", "c" */
  const char* fmt;  /* see above */
  int32_t rank;
  int64_t shape[V4O_MAX_RANK];
  void* data; /* host or device pointer, per v4o_plugin_info.memory */
} v4o_tensor;

typedef struct {
  int32_t abi_version; /* V4O_PLUGIN_ABI_VERSION */
  const char* name;    /* shown in reports, e.g. "splitk_bf16_gemm" */
  int32_t memory;      /* enum v4o_memory: where inputs and outputs live */
} v4o_plugin_info;

/* Static information; called once after loading. */
const v4o_plugin_info* v4o_info(void);
/* The kernel's name if the plug-in computes `op` under `recipe` ("canonical", "hopper", "exact"), else NULL. */
const char* v4o_kernel(const char* op, const char* recipe);
/* Computes `op`. `stream` is a cudaStream_t for device plug-ins (NULL: the default stream), NULL for host
 * plug-ins. The harness synchronizes the stream after the call. Returns 0 on success; otherwise writes a
 * one-line reason into err (err_len bytes, NUL-terminated) and returns non-zero. */
int v4o_run(const char* op, const char* recipe, const v4o_tensor* inputs, int32_t n_inputs, v4o_tensor* outputs,
            int32_t n_outputs, void* stream, char* err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif /* V4ORACLE_PLUGIN_H */
