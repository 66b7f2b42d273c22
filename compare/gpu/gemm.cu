// gemm: GPU runners of the GEMM ops fp8_gemm, fp4_gemm, bf16_gemm, f32_gemm (reference/gemm.h,
// docs/gemm.md) on CUDA cores: C[M, N] = A[M, K]·B[N, K]ᵀ, one thread per output, operands staged through
// shared memory as fp32 values, and every recipe step taken from reference/gemm.h's host/device functions
// (gemm_block_sum, gemm_fp8/fp4_block_partial, gemm_fp8/fp4_promote, gemm_fma_chain, gemm_bf16_wgmma_chain),
// so the device computes the plain loops of reference/gemm.cpp.
//   canonical  all four GEMMs.
//   hopper     fp8, fp4, bf16 through the Hopper tensor-core model (reference/wgmma_model.h) evaluated on
//              CUDA cores: an emulation of wgmma, not a tensor-core kernel; f32 has no tensor-core path
//              and runs canonical (as reference/gemm.cpp's f32_recipe).
//   exact      no GPU kernel: kernel() is "" and run throws std::invalid_argument.
// fp8_gemm under hopper runs on the tensor cores (fp8_gemm_wgmma.cu); its CUDA-core emulation stays
// available as the `builtin:cudacore` candidate's runner (gpu_ops_gemm_cudacore), a check of the model.
#include <stdexcept>
#include <string>
#include <type_traits>

#include "compare/gpu/device.cuh"
#include "compare/gpu/fp8_gemm_wgmma.h"
#include "compare/gpu/gpu_op.h"
#include "reference/gemm.h"

namespace v4::gpu {

namespace {

constexpr int kTile = 16;      // a thread block computes a kTile × kTile output tile, one output per thread
constexpr int kDotChunk = 64;  // bf16/f32: K staged per step (a multiple of the k16 instruction)
static_assert(kDotChunk % kWgmmaBF16K == 0, "hopper bf16 chains are split only at instruction boundaries");

// Stages rows r0 .. r0+kTile-1 (rows >= row_count: zeros) of K columns k0 .. k0+kc-1 (kc <= KC; columns
// >= kc: zeros) into tile as fp32 values, value(row, k) reading one element. All threads of the block
// take part; consecutive threads read consecutive k (coalesced).
template <int KC, class Value>
__device__ void stage_tile(float (*tile)[KC + 1], long long r0, long long row_count, long long k0, int kc,
                           Value value) {
  for (int i = threadIdx.y * kTile + threadIdx.x; i < kTile * KC; i += kTile * kTile) {
    const int r = i / KC, k = i % KC;
    tile[r][k] = r0 + r < row_count && k < kc ? value(r0 + r, k0 + k) : 0.0f;
  }
}

// The output tile of this block: tiles_n tiles per row of tiles, blocks in row-major tile order.
struct TileCoords {
  long long m0, n0, m, n;
};
__device__ TileCoords tile_coords(long long tiles_n) {
  const long long m0 = (long long)(blockIdx.x / tiles_n) * kTile, n0 = (long long)(blockIdx.x % tiles_n) * kTile;
  return {m0, n0, m0 + threadIdx.y, n0 + threadIdx.x};
}

// ---- FP8 / FP4×FP8 -------------------------------------------------------------------------------
// a e4m3 [M, K], a_scale ue8m0 [M, K/128]; FP8: b e4m3 [N, K], b_scale [ceil(N/128), K/128]; FP4: b e2m1
// packed [N, K/2], b_scale [N, K/32]; c bf16 [M, N]. Per K-block (128 FP8, 32 FP4) in ascending order:
// the block partial (canonical: exact sum rounded once; hopper: the wgmma model), then the promotion.
template <bool Fp4, Recipe R>
__global__ void scaled_gemm_kernel(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale,
                                   long long M, long long N, long long K, long long tiles_n, uint16_t* c) {
  constexpr int KC = Fp4 ? kFp4Block : kFp8Block;
  __shared__ float at[kTile][KC + 1], bt[kTile][KC + 1];  // +1: rows of bt in distinct banks
  const TileCoords t = tile_coords(tiles_n);
  const bool live = t.m < M && t.n < N;
  const long long KB = K / kFp8Block, blocks = K / KC;
  float acc = 0.0f;
  for (long long kb = 0; kb < blocks; ++kb) {
    stage_tile<KC>(at, t.m0, M, kb * KC, KC, [&](long long i, long long k) { return fp8_e4m3_decode(a[i * K + k]); });
    if constexpr (Fp4)
      stage_tile<KC>(bt, t.n0, N, kb * KC, KC, [&](long long j, long long k) {
        return fp4_e2m1_decode(fp4_e2m1_get(b + j * fp4_e2m1_row_bytes(K), k));
      });
    else
      stage_tile<KC>(bt, t.n0, N, kb * KC, KC, [&](long long j, long long k) { return fp8_e4m3_decode(b[j * K + k]); });
    __syncthreads();
    if (live) {
      if constexpr (Fp4)
        acc = gemm_fp4_promote(acc, gemm_fp4_block_partial(at[threadIdx.y], bt[threadIdx.x], R),
                               a_scale[t.m * KB + kb * kFp4Block / kFp8Block], b_scale[t.n * blocks + kb]);
      else
        acc = gemm_fp8_promote(acc, gemm_fp8_block_partial(at[threadIdx.y], bt[threadIdx.x], R),
                               a_scale[t.m * KB + kb], b_scale[(t.n / kFp8Block) * KB + kb]);
    }
    __syncthreads();
  }
  if (live) c[t.m * N + t.n] = bf16_encode(acc);
}

// ---- bf16 / fp32 ---------------------------------------------------------------------------------
// a [M, K], b [N, K], c [M, N], all bf16 codes (T = uint16_t) or all fp32 (T = float). canonical: the
// sequential fp32 FMA chain over k; hopper (bf16): one chain of k16 instructions over all of K. Both are
// run in kDotChunk pieces, each continuing the previous one's accumulator.
__device__ float element_value(uint16_t bf16) { return bf16_decode(bf16); }
__device__ float element_value(float f) { return f; }
__device__ void store_output(float acc, uint16_t* c) { *c = bf16_encode(acc); }
__device__ void store_output(float acc, float* c) { *c = acc; }

template <class T, Recipe R>
__global__ void dot_gemm_kernel(const T* a, const T* b, long long M, long long N, long long K, long long tiles_n, T* c) {
  __shared__ float at[kTile][kDotChunk + 1], bt[kTile][kDotChunk + 1];
  const TileCoords t = tile_coords(tiles_n);
  const bool live = t.m < M && t.n < N;
  float acc = 0.0f;
  for (long long k0 = 0; k0 < K; k0 += kDotChunk) {
    const int kc = int(K - k0 < kDotChunk ? K - k0 : kDotChunk);
    stage_tile<kDotChunk>(at, t.m0, M, k0, kc, [&](long long i, long long k) { return element_value(a[i * K + k]); });
    stage_tile<kDotChunk>(bt, t.n0, N, k0, kc, [&](long long j, long long k) { return element_value(b[j * K + k]); });
    __syncthreads();
    if (live) {
      if constexpr (R == Recipe::hopper) acc = gemm_bf16_wgmma_chain(at[threadIdx.y], bt[threadIdx.x], kc, acc);
      else acc = gemm_fma_chain(at[threadIdx.y], bt[threadIdx.x], kc, acc);
    }
    __syncthreads();
  }
  if (live) store_output(acc, c + t.m * N + t.n);
}

// ---- Runners -------------------------------------------------------------------------------------
void require(bool ok, const char* op, const std::string& what) {
  if (!ok) throw std::invalid_argument(std::string(op) + ": " + what);
}

// The launch shape of an M × N output: one block of kTile × kTile threads per output tile.
struct Launch {
  long long tiles_n;
  unsigned blocks;
};
Launch launch_for(long long M, long long N) {
  const long long tiles_n = ceil_div(N, kTile), tiles = ceil_div(M, kTile) * tiles_n;
  if (tiles > 0x7FFFFFFFLL) throw std::invalid_argument("GPU GEMM: " + std::to_string(tiles) + " output tiles exceed one grid");
  return {tiles_n, unsigned(tiles)};
}

// fp8_gemm / fp4_gemm under recipe R (canonical or hopper), with the CPU op's shape checks.
template <bool Fp4, Recipe R>
GpuOutputs run_scaled_gemm(const GpuInputs& in) {
  const char* op = Fp4 ? "fp4_gemm" : "fp8_gemm";
  const Tensor& a = gpu_input(in, "a", Fmt::e4m3fn);
  const Tensor& as = gpu_input(in, "a_scale", Fmt::ue8m0);
  const Tensor& b = gpu_input(in, "b", Fp4 ? Fmt::e2m1x2 : Fmt::e4m3fn);
  const Tensor& bs = gpu_input(in, "b_scale", Fmt::ue8m0);
  require(a.shape.size() == 2 && b.shape.size() == 2 && as.shape.size() == 2 && bs.shape.size() == 2, op,
          "a, a_scale, b, b_scale must have rank 2");
  const long long M = a.shape[0], N = b.shape[0], K = a.shape[1];
  require(b.shape[1] == K, op, "K must match a's columns");
  require(K % kFp8Block == 0, op, "K = " + std::to_string(K) + " is not a multiple of " + std::to_string(kFp8Block));
  require(as.shape[0] == M && as.shape[1] == K / kFp8Block, op, "a_scale must be [M, K/128]");
  if (Fp4) require(bs.shape[0] == N && bs.shape[1] == K / kFp4Block, op, "b_scale must be [N, K/32]");
  else require(bs.shape[0] == ceil_div(N, kFp8Block) && bs.shape[1] == K / kFp8Block, op, "b_scale must be [ceil(N/128), K/128]");
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  if (M > 0 && N > 0) {
    DeviceBuffer da(a.data.data(), a.data.size()), das(as.data.data(), as.data.size()),
        db(b.data.data(), b.data.size()), dbs(bs.data.data(), bs.data.size()), dc(c.data.size());
    const Launch l = launch_for(M, N);
    scaled_gemm_kernel<Fp4, R><<<l.blocks, dim3(kTile, kTile), 0, gpu_stream()>>>(
        da.as<uint8_t>(), das.as<uint8_t>(), db.as<uint8_t>(), dbs.as<uint8_t>(), M, N, K, l.tiles_n, dc.as<uint16_t>());
    cuda_check_launch(op);
    dc.download(c.data.data());
  }
  return gpu_single_output("c", std::move(c));
}

// bf16_gemm (T = uint16_t) / f32_gemm (T = float) under recipe R.
template <class T, Recipe R>
GpuOutputs run_dot_gemm(const GpuInputs& in) {
  constexpr bool bf = std::is_same_v<T, uint16_t>;
  const char* op = bf ? "bf16_gemm" : "f32_gemm";
  const Fmt fmt = bf ? Fmt::bf16 : Fmt::f32;
  const Tensor& a = gpu_input(in, "a", fmt);
  const Tensor& b = gpu_input(in, "b", fmt);
  require(a.shape.size() == 2 && b.shape.size() == 2, op, "a and b must have rank 2");
  const long long M = a.shape[0], N = b.shape[0], K = a.shape[1];
  require(b.shape[1] == K, op, "K must match a's columns");
  Tensor c = Tensor::make(fmt, {M, N});
  if (M > 0 && N > 0) {
    DeviceBuffer da(a.data.data(), a.data.size()), db(b.data.data(), b.data.size()), dc(c.data.size());
    const Launch l = launch_for(M, N);
    dot_gemm_kernel<T, R><<<l.blocks, dim3(kTile, kTile), 0, gpu_stream()>>>(da.as<T>(), db.as<T>(), M, N, K,
                                                                              l.tiles_n, dc.as<T>());
    cuda_check_launch(op);
    dc.download(c.data.data());
  }
  return gpu_single_output("c", std::move(c));
}

// fp8_gemm under hopper: the wgmma model on CUDA cores (builtin:cudacore).
GpuOutputs run_fp8_gemm_hopper_emulated(const GpuInputs& in) { return run_scaled_gemm<false, Recipe::hopper>(in); }

using Runner = GpuOutputs (*)(const GpuInputs&);

// A GEMM op: `canonical` and `hopper` runners with their kernel names; exact has none.
GpuOp gemm_op(const char* name, Runner canonical, std::string canonical_kernel, Runner hopper,
              std::string hopper_kernel) {
  return {name,
          [=](const GpuInputs& in, Recipe r) {
            if (r == Recipe::exact) throw std::invalid_argument(std::string(name) + ": recipe exact has no GPU kernel");
            return r == Recipe::hopper ? hopper(in) : canonical(in);
          },
          [=](Recipe r) {
            return r == Recipe::canonical ? canonical_kernel : r == Recipe::hopper ? hopper_kernel : std::string();
          }};
}

}  // namespace

// f32_gemm: hopper is canonical (no TF32 tensor-core path), on the CPU and here.
std::vector<GpuOp> gpu_ops_gemm() {
  return {gemm_op("fp8_gemm", run_scaled_gemm<false, Recipe::canonical>, "fp8_gemm_canonical_cudacore",
                  run_fp8_gemm_wgmma, kFp8GemmWgmmaKernel),
          gemm_op("fp4_gemm", run_scaled_gemm<true, Recipe::canonical>, "fp4_gemm_canonical_cudacore",
                  run_scaled_gemm<true, Recipe::hopper>, "fp4_gemm_wgmma_model_cudacore"),
          gemm_op("bf16_gemm", run_dot_gemm<uint16_t, Recipe::canonical>, "bf16_gemm_canonical_cudacore",
                  run_dot_gemm<uint16_t, Recipe::hopper>, "bf16_gemm_wgmma_model_cudacore"),
          gemm_op("f32_gemm", run_dot_gemm<float, Recipe::canonical>, "f32_gemm_canonical_cudacore",
                  run_dot_gemm<float, Recipe::canonical>, "f32_gemm_canonical_cudacore")};
}

std::vector<GpuOp> gpu_ops_gemm_cudacore() {
  return {gemm_op("fp8_gemm", run_scaled_gemm<false, Recipe::canonical>, "fp8_gemm_canonical_cudacore",
                  run_fp8_gemm_hopper_emulated, "fp8_gemm_wgmma_model_cudacore")};
}

std::vector<GpuOp> gpu_ops_cudacore() {
  std::vector<GpuOp> ops = gpu_op_registry();
  for (GpuOp& alt : gpu_ops_gemm_cudacore())
    for (GpuOp& op : ops)
      if (op.name == alt.name) op = alt;
  return ops;
}

}  // namespace v4::gpu
