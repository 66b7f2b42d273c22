// fp8_gemm_wgmma.h: fp8_gemm's `hopper` recipe on Hopper tensor cores (wgmma, sm_90a).
//
// Tiles: a block of 256 threads (two warpgroups) computes a 128x128 output tile; warpgroup g owns rows
// 64g..64g+63 and issues m64n128k32 instructions. K runs in 128-wide blocks through a 4-stage cp.async
// pipeline: A and B tiles (128 rows x 128 bytes each) land in shared memory in wgmma's no-swizzle K-major
// layout -- 8-row x 16-byte core matrices, K-adjacent core matrices 128 bytes apart (the descriptor's
// leading byte offset), 8-row groups 256 bytes apart (stride byte offset), each 32-byte k32 slab of a tile
// stored after the previous one. Per K block: four chained wgmma, the first with scale-d = 0 (a chain from
// zero), then acc = fmaf(partial, sa·sb, acc) per element, exactly reference/gemm.cpp's hopper step; the
// tensor cores' own rounding is what reference/wgmma_model.h models (validated on H100/H200, docs/gpu.md).
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>

#include "compare/gpu/device.cuh"
#include "compare/gpu/fp8_gemm_wgmma.h"
#include "reference/formats.h"

namespace v4::gpu {

namespace {

constexpr int kBM = 128, kBN = 128, kBK = 128, kStages = 4, kThreads = 256, kGroupM = 8;
constexpr int kTileBytes = kBM * kBK;         // an A or B tile: 128 rows x 128 e4m3
constexpr int kSlabBytes = kBM * 32;          // one k32 slab of a tile
constexpr int kStageBytes = 2 * kTileBytes;   // A tile, then B tile
constexpr int kSmemBytes = kStages * kStageBytes + 1024;  // + slack to align the tiles to 1024 bytes
static_assert(kBN == 128, "one b_scale row (128 rows of B) per tile");

// Byte offset of (row, 16-byte chunk ch of the row's 128-byte K block) in a tile, and the wgmma
// descriptor of k32 slab q for the 8-row groups from `row0` (all byte offsets encoded >> 4):
//   interleave: core matrices (file comment); leading (K) byte offset 128, stride (8-row) offset 256.
//   swizzle128: row r at r·128 bytes, chunk ch at (ch ^ r%8)·16 (the hardware's 128-byte swizzle: no bank
//               conflicts for the copies or the tensor cores); the slab starts 32q bytes into the row,
//               stride (8-row) offset 1024, layout type 1. Needs the tile 1024-byte aligned.
template <WgmmaSmem L>
__device__ __forceinline__ uint32_t tile_offset(int row, int ch) {
  if constexpr (L == WgmmaSmem::interleave)
    return uint32_t((ch >> 1) * kSlabBytes + (((row >> 3) * 2 + (ch & 1)) << 7) + ((row & 7) << 4));
  else
    return uint32_t(row * 128 + ((ch ^ (row & 7)) << 4));
}
template <WgmmaSmem L>
__device__ __forceinline__ uint64_t smem_desc(uint32_t tile, int row0, int q) {
  if constexpr (L == WgmmaSmem::interleave) {
    const uint32_t addr = tile + q * kSlabBytes + (row0 / 8) * 256;
    return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(128 >> 4) << 16) | (uint64_t(256 >> 4) << 32);
  } else {
    const uint32_t addr = tile + row0 * 128 + q * 32;
    return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
  }
}

__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(valid ? 16 : 0) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory"); }
// cp.async writes through the generic proxy; wgmma reads through the async proxy.
__device__ __forceinline__ void fence_proxy_async() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }

// d (64 fp32 per thread) = [d +] A(64x32 e4m3, desc_a) . B(128x32 e4m3, desc_b)^T; accumulate == 0 starts
// the chain from zero.
__device__ __forceinline__ void wgmma_m64n128k32(float (&d)[64], uint64_t desc_a, uint64_t desc_b, int accumulate) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %66, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, %32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, %48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63}, %64, %65, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]), "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]), "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]), "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]), "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63])
      : "l"(desc_a), "l"(desc_b), "r"(accumulate));
}

template <WgmmaSmem L>
__global__ void __launch_bounds__(kThreads, 1)
    fp8_gemm_wgmma_kernel(const uint8_t* __restrict__ a, const uint8_t* __restrict__ sa, const uint8_t* __restrict__ b,
                          const uint8_t* __restrict__ sb, int M, int N, int K, uint16_t* __restrict__ c) {
  extern __shared__ __align__(1024) uint8_t smem[];
  const int tid = threadIdx.x, wg = tid >> 7, warp = (tid >> 5) & 3, lane = tid & 31;
  // Grouped tile order: kGroupM tile rows at a time, down the rows first, so the blocks resident together
  // share A and B tiles in L2 (a row-by-row order streams all of B from memory once per tile row).
  const int tiles_m = (M + kBM - 1) / kBM, tiles_n = (N + kBN - 1) / kBN, per_group = kGroupM * tiles_n;
  const int group = int(blockIdx.x) / per_group, first_m = group * kGroupM;
  const int group_m = tiles_m - first_m < kGroupM ? tiles_m - first_m : kGroupM, in_group = int(blockIdx.x) % per_group;
  const int m0 = (first_m + in_group % group_m) * kBM, n0 = (in_group / group_m) * kBN, KB = K / kBK;
  const uint32_t base = (uint32_t(__cvta_generic_to_shared(smem)) + 1023u) & ~1023u;  // kSmemBytes has the slack

  // Rows (zero-filled past M / N) of A and B for K block kb into stage st: 8 threads read one row's 128 bytes.
  auto load_stage = [&](int kb, int st) {
    const uint32_t tile_a = base + st * kStageBytes, tile_b = tile_a + kTileBytes;
    for (int i = tid; i < kBM * 8; i += kThreads) {
      const int row = i >> 3, ch = i & 7;
      const int gm = m0 + row, gn = n0 + row;
      const size_t k_off = size_t(kb) * kBK + ch * 16;
      cp_async16(tile_a + tile_offset<L>(row, ch), a + size_t(gm < M ? gm : 0) * K + k_off, gm < M);
      cp_async16(tile_b + tile_offset<L>(row, ch), b + size_t(gn < N ? gn : 0) * K + k_off, gn < N);
    }
  };

  // This thread's accumulator elements: register r is row (r & 2 ? r1 : r0), column n0 + 8(r/4) + 2(lane%4) + r%2.
  const int r0 = m0 + wg * 64 + warp * 16 + (lane >> 2), r1 = r0 + 8;
  const uint8_t* sa0 = sa + size_t(r0 < M ? r0 : M - 1) * KB;  // rows past M read a valid row, never stored
  const uint8_t* sa1 = sa + size_t(r1 < M ? r1 : M - 1) * KB;
  const uint8_t* sbt = sb + size_t(n0 / 128) * KB;
  float acc[64], d[64];
#pragma unroll
  for (int r = 0; r < 64; ++r) acc[r] = d[r] = 0.0f;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < KB) load_stage(s, s);
    cp_async_commit();
  }
  uint8_t n_sb = 0, n_sa0 = 0, n_sa1 = 0;
  if (KB > 0) n_sb = sbt[0], n_sa0 = sa0[0], n_sa1 = sa1[0];
  for (int kb = 0; kb < KB; ++kb) {
    cp_async_wait<kStages - 2>();  // K block kb has landed (this thread's copies)
    fence_proxy_async();
    __syncthreads();  // ... everyone's; and every warpgroup finished reading the stage refilled next
    if (kb + kStages - 1 < KB) load_stage(kb + kStages - 1, (kb + kStages - 1) % kStages);
    cp_async_commit();

    // The block's scale codes were loaded an iteration ago; load the next block's now, so their global-memory
    // latency hides behind this block's tensor-core work instead of stalling the promotion.
    const uint8_t c_sb = n_sb, c_sa0 = n_sa0, c_sa1 = n_sa1;
    if (kb + 1 < KB) n_sb = sbt[kb + 1], n_sa0 = sa0[kb + 1], n_sa1 = sa1[kb + 1];
    const uint32_t tile_a = base + (kb % kStages) * kStageBytes, tile_b = tile_a + kTileBytes;
    wgmma_fence();
#pragma unroll
    for (int q = 0; q < kBK / 32; ++q)
      wgmma_m64n128k32(d, smem_desc<L>(tile_a, wg * 64, q), smem_desc<L>(tile_b, 0, q), q);
    wgmma_commit();
    wgmma_wait_all();

    const float sbk = ue8m0_decode(c_sb);
    const float s0 = ue8m0_decode(c_sa0) * sbk, s1 = ue8m0_decode(c_sa1) * sbk;  // fp32(sa·sb), as the CPU
#pragma unroll
    for (int r = 0; r < 64; ++r) acc[r] = fmaf(d[r], (r & 2) ? s1 : s0, acc[r]);
  }

#pragma unroll
  for (int r = 0; r < 64; ++r) {
    const int row = (r & 2) ? r1 : r0, col = n0 + (r >> 2) * 8 + (lane & 3) * 2 + (r & 1);
    if (row < M && col < N) c[size_t(row) * N + col] = bf16_encode(acc[r]);
  }
}

template <WgmmaSmem L>
void launch(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M, int64_t N,
            int64_t K, uint16_t* c_bf16, cudaStream_t stream) {
  static const bool configured = [] {
    cuda_check(cudaFuncSetAttribute(fp8_gemm_wgmma_kernel<L>, cudaFuncAttributeMaxDynamicSharedMemorySize, kSmemBytes),
               "cudaFuncSetAttribute(fp8_gemm_wgmma)");
    return true;
  }();
  (void)configured;
  const int64_t tiles = ceil_div(N, int64_t(kBN)) * ceil_div(M, int64_t(kBM));
  if (tiles > INT32_MAX) throw std::invalid_argument("fp8_gemm_wgmma: more than 2^31 output tiles");
  const dim3 grid{unsigned(tiles), 1u, 1u};
  fp8_gemm_wgmma_kernel<L><<<grid, kThreads, kSmemBytes, stream>>>(a, a_scale, b, b_scale, int(M), int(N), int(K), c_bf16);
  cuda_check(cudaGetLastError(), kFp8GemmWgmmaKernel);
}

}  // namespace

void fp8_gemm_wgmma(const uint8_t* a, const uint8_t* a_scale, const uint8_t* b, const uint8_t* b_scale, int64_t M,
                    int64_t N, int64_t K, uint16_t* c_bf16, void* stream, WgmmaSmem layout) {
  if (M == 0 || N == 0) return;
  if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX) throw std::invalid_argument("fp8_gemm_wgmma: dimension above 2^31");
  if (layout == WgmmaSmem::interleave)
    launch<WgmmaSmem::interleave>(a, a_scale, b, b_scale, M, N, K, c_bf16, static_cast<cudaStream_t>(stream));
  else
    launch<WgmmaSmem::swizzle128>(a, a_scale, b, b_scale, M, N, K, c_bf16, static_cast<cudaStream_t>(stream));
}

}  // namespace v4::gpu

// ---- The runner: golden's fp8_gemm under `hopper` on the tensor cores. ----
#include "compare/gpu/gpu_op.h"

namespace v4::gpu {

GpuOutputs run_fp8_gemm_wgmma(const GpuInputs& in) {
  const Tensor& a = gpu_input(in, "a", Fmt::e4m3fn);
  const Tensor& as = gpu_input(in, "a_scale", Fmt::ue8m0);
  const Tensor& b = gpu_input(in, "b", Fmt::e4m3fn);
  const Tensor& bs = gpu_input(in, "b_scale", Fmt::ue8m0);
  const int64_t M = a.shape.at(0), K = a.shape.at(1), N = b.shape.at(0);
  if (K % 128 || b.shape.at(1) != K) throw std::invalid_argument("fp8_gemm_wgmma: K must match and be a multiple of 128");
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  DeviceBuffer da(a.data.data(), a.data.size()), das(as.data.data(), as.data.size()), db(b.data.data(), b.data.size()),
      dbs(bs.data.data(), bs.data.size()), dc(c.data.size());
  fp8_gemm_wgmma(da.as<uint8_t>(), das.as<uint8_t>(), db.as<uint8_t>(), dbs.as<uint8_t>(), M, N, K, dc.as<uint16_t>(),
                 gpu_stream());
  cuda_check_launch(kFp8GemmWgmmaKernel);
  dc.download(c.data.data());
  GpuOutputs out;
  out.emplace_back("c", std::move(c));
  return out;
}

}  // namespace v4::gpu
