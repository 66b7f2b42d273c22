// cublaslt.h: cuBLASLt through dlopen. The header's declarations give the function types; nothing links
// against the library, so a machine without it still runs every other candidate.
#include <cublasLt.h>
#include <dlfcn.h>

#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "compare/gpu/cublaslt.h"
#include "compare/gpu/device.cuh"

namespace v4::gpu {

namespace {

#define V4_CUBLASLT_FUNCTIONS(X)         \
  X(cublasLtCreate)                      \
  X(cublasLtGetVersion)                  \
  X(cublasLtGetStatusName)               \
  X(cublasLtMatmulDescCreate)            \
  X(cublasLtMatmulDescDestroy)           \
  X(cublasLtMatmulDescSetAttribute)      \
  X(cublasLtMatrixLayoutCreate)          \
  X(cublasLtMatrixLayoutDestroy)         \
  X(cublasLtMatmulPreferenceCreate)      \
  X(cublasLtMatmulPreferenceDestroy)     \
  X(cublasLtMatmulPreferenceSetAttribute) \
  X(cublasLtMatmulAlgoGetHeuristic)      \
  X(cublasLtMatmulAlgoConfigGetAttribute) \
  X(cublasLtMatmul)

struct Api {
#define V4_LT_POINTER(f) decltype(&::f) f = nullptr;
  V4_CUBLASLT_FUNCTIONS(V4_LT_POINTER)
#undef V4_LT_POINTER
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = size_t(32) << 20;
  CublasLtStatus status;
};

Api& api() {
  static Api a;
  static std::once_flag once;
  std::call_once(once, [] {
    std::vector<std::string> names;
    if (const char* env = std::getenv("V4ORACLE_CUBLASLT")) names.push_back(env);
    for (const char* n : {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"}) names.push_back(n);
    void* lib = nullptr;
    std::string tried;
    for (const std::string& n : names) {
      if ((lib = dlopen(n.c_str(), RTLD_NOW | RTLD_LOCAL))) {
        a.status.detail = n;
        break;
      }
      tried += (tried.empty() ? "" : ", ") + n;
    }
    if (!lib) {
      a.status.detail = "cuBLASLt not found (tried " + tried + "; set V4ORACLE_CUBLASLT to the library's path)";
      return;
    }
#define V4_LT_LOAD(f)                                                             \
  a.f = reinterpret_cast<decltype(&::f)>(dlsym(lib, #f));                        \
  if (!a.f) {                                                                     \
    a.status.detail += ": symbol " #f " missing";                                 \
    return;                                                                       \
  }
    V4_CUBLASLT_FUNCTIONS(V4_LT_LOAD)
#undef V4_LT_LOAD
    if (a.cublasLtCreate(&a.handle) != CUBLAS_STATUS_SUCCESS) {
      a.status.detail += ": cublasLtCreate failed";
      return;
    }
    if (cudaMalloc(&a.workspace, a.workspace_bytes) != cudaSuccess) {
      a.status.detail += ": no device memory for the workspace";
      return;
    }
    a.status.detail += " (cuBLASLt " + std::to_string(a.cublasLtGetVersion()) + ")";
    a.status.available = true;
  });
  return a;
}

void lt_check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLASLt: ") + what + ": " + api().cublasLtGetStatusName(s));
}

// Owns the descriptors of one call.
struct Descs {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  ~Descs() {
    Api& x = api();
    if (pref) x.cublasLtMatmulPreferenceDestroy(pref);
    for (cublasLtMatrixLayout_t l : {a, b, c})
      if (l) x.cublasLtMatrixLayoutDestroy(l);
    if (op) x.cublasLtMatmulDescDestroy(op);
  }
};

template <class T>
void set_attr(cublasLtMatmulDesc_t d, cublasLtMatmulDescAttributes_t attr, const T& v, const char* what) {
  lt_check(api().cublasLtMatmulDescSetAttribute(d, attr, &v, sizeof(v)), what);
}

std::string algo_text(const cublasLtMatmulAlgo_t& algo) {
  Api& x = api();
  auto get = [&](cublasLtMatmulAlgoConfigAttributes_t attr) -> long long {
    uint32_t v = 0;
    size_t written = 0;
    if (x.cublasLtMatmulAlgoConfigGetAttribute(&algo, attr, &v, sizeof(v), &written) != CUBLAS_STATUS_SUCCESS) return -1;
    return (long long)v;
  };
  const long long splitk = get(CUBLASLT_ALGO_CONFIG_SPLITK_NUM), red = get(CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME);
  const char* red_name = red == CUBLASLT_REDUCTION_SCHEME_NONE ? "none"
                         : red == CUBLASLT_REDUCTION_SCHEME_INPLACE ? "inplace"
                         : red == CUBLASLT_REDUCTION_SCHEME_COMPUTE_TYPE ? "compute-type"
                         : red == CUBLASLT_REDUCTION_SCHEME_OUTPUT_TYPE ? "output-type" : "?";
  return "algo " + std::to_string(get(CUBLASLT_ALGO_CONFIG_ID)) + " tile-id " + std::to_string(get(CUBLASLT_ALGO_CONFIG_TILE_ID)) +
         " stages-id " + std::to_string(get(CUBLASLT_ALGO_CONFIG_STAGES_ID)) + " splitK " +
         std::to_string(splitk <= 0 ? 1 : splitk) + " reduction " + red_name;
}

}  // namespace

const CublasLtStatus& cublaslt_status() { return api().status; }

std::string cublaslt_gemm(LtGemm kind, const void* a, const float* a_scale, const void* b, const float* b_scale,
                          int64_t M, int64_t N, int64_t K, bool fast_accum, uint16_t* c_bf16, void* stream) {
  Api& x = api();
  if (!x.status.available) throw std::runtime_error(x.status.detail);
  const bool fp8 = kind != LtGemm::bf16;
  const cudaDataType_t in_type = fp8 ? CUDA_R_8F_E4M3 : CUDA_R_16BF;
  Descs d;
  lt_check(x.cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "cublasLtMatmulDescCreate");
  // cuBLASLt's A is our B (N x K row-major = K x N column-major, transposed); its B is our A.
  const cublasOperation_t t = CUBLAS_OP_T, n = CUBLAS_OP_N;
  set_attr(d.op, CUBLASLT_MATMUL_DESC_TRANSA, t, "TRANSA");
  set_attr(d.op, CUBLASLT_MATMUL_DESC_TRANSB, n, "TRANSB");
  if (fp8) {
    const int8_t fast = fast_accum ? 1 : 0;
    set_attr(d.op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, fast, "FAST_ACCUM");
    if (kind == LtGemm::fp8_blockwise) {
      const int32_t mode_w = CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F, mode_x = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
      set_attr(d.op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, mode_w, "A_SCALE_MODE");
      set_attr(d.op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, mode_x, "B_SCALE_MODE");
    }
    set_attr(d.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, b_scale, "A_SCALE_POINTER");
    set_attr(d.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, a_scale, "B_SCALE_POINTER");
  }
  lt_check(x.cublasLtMatrixLayoutCreate(&d.a, in_type, uint64_t(K), uint64_t(N), K), "layout A");
  lt_check(x.cublasLtMatrixLayoutCreate(&d.b, in_type, uint64_t(K), uint64_t(M), K), "layout B");
  lt_check(x.cublasLtMatrixLayoutCreate(&d.c, CUDA_R_16BF, uint64_t(N), uint64_t(M), N), "layout C");
  lt_check(x.cublasLtMatmulPreferenceCreate(&d.pref), "preference");
  lt_check(x.cublasLtMatmulPreferenceSetAttribute(d.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &x.workspace_bytes,
                                                  sizeof(x.workspace_bytes)),
           "workspace preference");
  cublasLtMatmulHeuristicResult_t heur{};
  int found = 0;
  lt_check(x.cublasLtMatmulAlgoGetHeuristic(x.handle, d.op, d.a, d.b, d.c, d.c, d.pref, 1, &heur, &found),
           "cublasLtMatmulAlgoGetHeuristic");
  if (found == 0) throw std::runtime_error("cuBLASLt: no algorithm for this problem");
  const float one = 1.0f, zero = 0.0f;
  lt_check(x.cublasLtMatmul(x.handle, d.op, &one, b, d.a, a, d.b, &zero, c_bf16, d.c, c_bf16, d.c, &heur.algo, x.workspace,
                            x.workspace_bytes, static_cast<cudaStream_t>(stream)),
           "cublasLtMatmul");
  return algo_text(heur.algo);
}

}  // namespace v4::gpu
