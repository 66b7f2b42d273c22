// plugin_splitk_bf16: an example kernel plug-in (compare/harness/v4oracle_plugin.h, device memory) that
// computes bf16_gemm like the canonical recipe but splits K depending on M -- deliberately NOT batch
// invariant, so that gpu-check's batch-invariance probe has something to find.
//
// The rule: C[m, n] = bf16_encode(acc), A [M, K], B [N, K] bf16 codes, C [M, N] bf16 codes, and
//   S = 4 splits if M < 128, else S = 1;
//   split s covers the contiguous K range [s·ceil(K/S), min(K, (s+1)·ceil(K/S))) (possibly empty) and is
//   a sequential fp32 FMA chain over its range in ascending k, starting from +0;
//   acc = p_0, then acc = acc + p_s for s = 1 .. S-1 (fp32 adds, in order).
// With S = 1 this is exactly the canonical recipe (one FMA chain from 0 over all of K); with S = 4 the
// same row of C can change when the batch (M) grows past 127 rows.
// Self-contained on purpose (a plug-in builds outside the project): only the plug-in header and the
// shared format headers.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstring>

#include "compare/harness/v4oracle_plugin.h"
#include "reference/formats.h"
#include "reference/hd.h"

namespace {

constexpr int kSplitsSmallM = 4;       // splits when M < kSplitThresholdM
constexpr long long kSplitThresholdM = 128;

__global__ void splitk_bf16_gemm_kernel(const uint16_t* a, const uint16_t* b, long long M, long long N, long long K,
                                        int splits, uint16_t* c) {
  const long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= M * N) return;
  const long long m = o / N, n = o % N;
  const long long chunk = (K + splits - 1) / splits;
  float acc = 0.0f;
  for (int s = 0; s < splits; ++s) {
    const long long k0 = s * chunk, k1 = k0 + chunk < K ? k0 + chunk : K;
    float p = 0.0f;
    for (long long k = k0; k < k1; ++k) p = v4::f32_fma(v4::bf16_decode(a[m * K + k]), v4::bf16_decode(b[n * K + k]), p);
    acc = s == 0 ? p : acc + p;
  }
  c[o] = v4::bf16_encode(acc);
}

const v4o_tensor* find(const v4o_tensor* t, int32_t count, const char* name) {
  for (int32_t i = 0; i < count; ++i)
    if (t[i].name && std::strcmp(t[i].name, name) == 0) return &t[i];
  return nullptr;
}

int fail(char* err, size_t err_len, const char* what) {
  if (err && err_len) std::snprintf(err, err_len, "splitk_bf16_gemm: %s", what);
  return 1;
}

bool is_matrix(const v4o_tensor* t, const char* fmt) { return t && t->rank == 2 && std::strcmp(t->fmt, fmt) == 0; }

}  // namespace

extern "C" {

const v4o_plugin_info* v4o_info(void) {
  static const v4o_plugin_info info = {V4O_PLUGIN_ABI_VERSION, "splitk_bf16_gemm", V4O_MEMORY_DEVICE};
  return &info;
}

const char* v4o_kernel(const char* op, const char* recipe) {
  if (op && recipe && std::strcmp(op, "bf16_gemm") == 0 && std::strcmp(recipe, "canonical") == 0)
    return "splitk_bf16_gemm_kernel";
  return nullptr;
}

int v4o_run(const char* op, const char* recipe, const v4o_tensor* inputs, int32_t n_inputs, v4o_tensor* outputs,
            int32_t n_outputs, void* stream, char* err, size_t err_len) {
  if (!v4o_kernel(op, recipe)) return fail(err, err_len, "computes only bf16_gemm under recipe canonical");
  const v4o_tensor* a = find(inputs, n_inputs, "a");
  const v4o_tensor* b = find(inputs, n_inputs, "b");
  v4o_tensor* c = const_cast<v4o_tensor*>(find(outputs, n_outputs, "c"));
  if (!is_matrix(a, "bf16") || !is_matrix(b, "bf16") || !is_matrix(c, "bf16"))
    return fail(err, err_len, "expects inputs a, b and output c, each a bf16 matrix");
  const long long M = a->shape[0], K = a->shape[1], N = b->shape[0];
  if (b->shape[1] != K || c->shape[0] != M || c->shape[1] != N)
    return fail(err, err_len, "shapes must be a [M, K], b [N, K], c [M, N]");
  if (M == 0 || N == 0) return 0;
  const int splits = M < kSplitThresholdM ? kSplitsSmallM : 1;
  const long long outputs_total = M * N, threads = 256, grid = (outputs_total + threads - 1) / threads;
  if (grid > 0x7FFFFFFFLL) return fail(err, err_len, "output too large for one grid");
  splitk_bf16_gemm_kernel<<<unsigned(grid), unsigned(threads), 0, static_cast<cudaStream_t>(stream)>>>(
      static_cast<const uint16_t*>(a->data), static_cast<const uint16_t*>(b->data), M, N, K, splits,
      static_cast<uint16_t*>(c->data));
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) return fail(err, err_len, cudaGetErrorString(e));
  return 0;
}

}  // extern "C"
