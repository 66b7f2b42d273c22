// cublaslt_ops.h: golden's fp8_gemm and bf16_gemm computed by cuBLASLt, and the GEMM benchmark.
#include <algorithm>
#include <stdexcept>

#include "compare/gpu/cublaslt.h"
#include "compare/gpu/cublaslt_ops.h"
#include "compare/gpu/device.cuh"
#include "compare/gpu/fp8_gemm_wgmma.h"
#include "reference/blocks.h"
#include "reference/formats.h"

namespace v4::gpu {

namespace {

thread_local std::string g_last_algo;

int64_t round_up(int64_t x, int64_t m) { return ceil_div(x, m) * m; }

// fp8_gemm's block scales in cuBLASLt's layouts (cublaslt.h), decoded to fp32; padding entries are 1.
std::vector<float> a_scales_vec128(const Tensor& as, int64_t M, int64_t Mp, int64_t KB) {
  std::vector<float> v(size_t(Mp * KB), 1.0f);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t kb = 0; kb < KB; ++kb) v[size_t(kb * Mp + m)] = ue8m0_decode(as.as<uint8_t>()[m * KB + kb]);
  return v;
}
std::vector<float> b_scales_blk128(const Tensor& bs, int64_t NB, int64_t KB) {
  const int64_t L4 = round_up(KB, 4);
  std::vector<float> v(size_t(NB * L4), 1.0f);
  for (int64_t nb = 0; nb < NB; ++nb)
    for (int64_t kb = 0; kb < KB; ++kb) v[size_t(nb * L4 + kb)] = ue8m0_decode(bs.as<uint8_t>()[nb * KB + kb]);
  return v;
}
// The one scale of a tensor-wise candidate: every code equal, else the input cannot be computed this way.
float single_scale(const Tensor& s, const char* name) {
  const uint8_t* p = s.as<uint8_t>();
  const int64_t n = s.numel();
  if (n == 0 || std::any_of(p, p + n, [&](uint8_t c) { return c != p[0]; }))
    throw std::invalid_argument(std::string("cublaslt:tensorwise computes one scale per tensor, but /") + name +
                                " holds different codes");
  return ue8m0_decode(p[0]);
}

GpuOutputs run_fp8(const GpuInputs& in, const std::string& variant) {
  const Tensor& a = gpu_input(in, "a", Fmt::e4m3fn);
  const Tensor& as = gpu_input(in, "a_scale", Fmt::ue8m0);
  const Tensor& b = gpu_input(in, "b", Fmt::e4m3fn);
  const Tensor& bs = gpu_input(in, "b_scale", Fmt::ue8m0);
  const int64_t M = a.shape.at(0), K = a.shape.at(1), N = b.shape.at(0), KB = K / kFp8Block;
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  if (M == 0 || N == 0) return {{"c", std::move(c)}};
  const int64_t Mp = round_up(M, 4);  // cuBLASLt wants the activation-scale leading dimension a multiple of 4
  std::vector<uint8_t> a_pad(size_t(Mp * K), 0);
  std::copy(a.data.begin(), a.data.end(), a_pad.begin());
  std::vector<float> sa, sb;
  if (variant.empty()) {
    sa = a_scales_vec128(as, M, Mp, KB);
    sb = b_scales_blk128(bs, ceil_div(N, kFp8Block), KB);
  } else {
    sa = {single_scale(as, "a_scale")};
    sb = {single_scale(bs, "b_scale")};
  }
  DeviceBuffer da(a_pad.data(), a_pad.size()), db(b.data.data(), b.data.size());
  DeviceBuffer dsa(sa.data(), sa.size() * 4), dsb(sb.data(), sb.size() * 4);
  DeviceBuffer dc(size_t(Mp * N) * 2);
  g_last_algo = cublaslt_gemm(variant.empty() ? LtGemm::fp8_blockwise : LtGemm::fp8_tensorwise, da.as<void>(),
                              dsa.as<float>(), db.as<void>(), dsb.as<float>(), Mp, N, K,
                              variant == "tensorwise-fastaccum", dc.as<uint16_t>(), gpu_stream());
  cuda_check_launch("cublasLtMatmul");
  std::vector<uint8_t> c_pad(dc.size());
  dc.download(c_pad.data());
  std::copy(c_pad.begin(), c_pad.begin() + c.data.size(), c.data.begin());
  return {{"c", std::move(c)}};
}

GpuOutputs run_bf16(const GpuInputs& in) {
  const Tensor& a = gpu_input(in, "a", Fmt::bf16);
  const Tensor& b = gpu_input(in, "b", Fmt::bf16);
  const int64_t M = a.shape.at(0), K = a.shape.at(1), N = b.shape.at(0);
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  if (M == 0 || N == 0) return {{"c", std::move(c)}};
  DeviceBuffer da(a.data.data(), a.data.size()), db(b.data.data(), b.data.size()), dc(c.data.size());
  g_last_algo = cublaslt_gemm(LtGemm::bf16, da.as<void>(), nullptr, db.as<void>(), nullptr, M, N, K, false,
                              dc.as<uint16_t>(), gpu_stream());
  cuda_check_launch("cublasLtMatmul");
  dc.download(c.data.data());
  return {{"c", std::move(c)}};
}

}  // namespace

const std::string& cublaslt_last_algo() { return g_last_algo; }

std::vector<GpuOp> cublaslt_ops(const std::string& variant) {
  if (!variant.empty() && variant != "tensorwise" && variant != "tensorwise-fastaccum")
    throw std::invalid_argument("cublaslt: unknown variant '" + variant + "' (none, tensorwise, tensorwise-fastaccum)");
  std::vector<GpuOp> ops;
  GpuOp fp8;
  fp8.name = "fp8_gemm";
  fp8.run = [variant](const GpuInputs& in, Recipe) { return run_fp8(in, variant); };
  fp8.kernel = [variant](Recipe) {
    return std::string(variant.empty() ? "cublasLtMatmul fp8 e4m3, 1x128/128x128 fp32 block scales"
                       : variant == "tensorwise" ? "cublasLtMatmul fp8 e4m3, per-tensor scales"
                                                 : "cublasLtMatmul fp8 e4m3, per-tensor scales, fast accumulation");
  };
  ops.push_back(fp8);
  if (variant.empty()) {
    GpuOp bf16;
    bf16.name = "bf16_gemm";
    bf16.run = [](const GpuInputs& in, Recipe) { return run_bf16(in); };
    bf16.kernel = [](Recipe) { return std::string("cublasLtMatmul bf16, fp32 compute"); };
    ops.push_back(bf16);
  }
  return ops;
}

// ---- Benchmark ----

namespace {

__global__ void fill_e4m3_kernel(uint8_t* p, long long n, uint32_t seed) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  uint32_t h = uint32_t(i) * 0x9E3779B1u ^ seed;
  h ^= h >> 15;
  h *= 0x2C1B3C6Du;
  h ^= h >> 12;
  p[i] = uint8_t((h & 0x80u) | ((h >> 8) % 0x70u));  // exponent field <= 13: finite, non-NaN, mixed magnitudes
}
__global__ void fill_const_kernel(uint8_t* p, long long n, uint8_t v) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = v;
}
__global__ void fill_f32_kernel(float* p, long long n, float v) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) p[i] = v;
}

__global__ void count_diff_kernel(const uint16_t* x, const uint16_t* y, long long n, unsigned long long* count) {
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n && x[i] != y[i]) atomicAdd(count, 1ull);
}

long long count_diff(const DeviceBuffer& x, const DeviceBuffer& y, long long n) {
  DeviceBuffer cnt(sizeof(unsigned long long));
  cuda_check(cudaMemsetAsync(cnt.as<void>(), 0, cnt.size(), gpu_stream()), "memset");
  count_diff_kernel<<<grid_for(n), 256, 0, gpu_stream()>>>(x.as<uint16_t>(), y.as<uint16_t>(), n, cnt.as<unsigned long long>());
  cuda_check_launch("count_diff");
  unsigned long long h = 0;
  cnt.download(&h);
  return (long long)h;
}

template <class Launch>
double median_us(Launch launch, int reps) {
  cudaEvent_t e0, e1;
  cuda_check(cudaEventCreate(&e0), "event");
  cuda_check(cudaEventCreate(&e1), "event");
  for (int i = 0; i < 3; ++i) launch();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    cuda_check(cudaEventRecord(e0, gpu_stream()), "record");
    launch();
    cuda_check(cudaEventRecord(e1, gpu_stream()), "record");
    cuda_check(cudaEventSynchronize(e1), "sync");
    float ms = 0;
    cuda_check(cudaEventElapsedTime(&ms, e0, e1), "elapsed");
    t.push_back(ms * 1000.0);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

std::vector<GemmBenchRow> gemm_bench(const std::vector<long long>& Ms, const std::vector<long long>& Ns, long long K,
                                     int reps) {
  std::vector<GemmBenchRow> rows;
  const long long Mmax = *std::max_element(Ms.begin(), Ms.end()), Nmax = *std::max_element(Ns.begin(), Ns.end());
  const long long KB = K / kFp8Block;
  DeviceBuffer a(size_t(Mmax * K)), b(size_t(Nmax * K)), sa(size_t(Mmax * KB)), sb(size_t(ceil_div(Nmax, 128) * KB));
  DeviceBuffer fsa(size_t(Mmax * KB) * 4), fsb(size_t(ceil_div(Nmax, 128) * round_up(KB, 4)) * 4);
  DeviceBuffer c(size_t(Mmax * Nmax) * 2), c_il(size_t(Mmax * Nmax) * 2), c_lt(size_t(Mmax * Nmax) * 2);
  fill_e4m3_kernel<<<grid_for(Mmax * K), 256, 0, gpu_stream()>>>(a.as<uint8_t>(), Mmax * K, 1u);
  fill_e4m3_kernel<<<grid_for(Nmax * K), 256, 0, gpu_stream()>>>(b.as<uint8_t>(), Nmax * K, 2u);
  fill_const_kernel<<<grid_for(Mmax * KB), 256, 0, gpu_stream()>>>(sa.as<uint8_t>(), Mmax * KB, 127);
  fill_const_kernel<<<grid_for(ceil_div(Nmax, 128) * KB), 256, 0, gpu_stream()>>>(sb.as<uint8_t>(), ceil_div(Nmax, 128) * KB, 120);
  fill_f32_kernel<<<grid_for(Mmax * KB), 256, 0, gpu_stream()>>>(fsa.as<float>(), Mmax * KB, 1.0f);
  fill_f32_kernel<<<grid_for(ceil_div(Nmax, 128) * round_up(KB, 4)), 256, 0, gpu_stream()>>>(
      fsb.as<float>(), ceil_div(Nmax, 128) * round_up(KB, 4), 0x1p-7f);
  cuda_check_launch("bench fill");
  for (long long M : Ms)
    for (long long N : Ns) {
      GemmBenchRow r{M, N, K, 0, 0, -1, -1, -1, ""};
      r.builtin_us = median_us([&] {
        fp8_gemm_wgmma(a.as<uint8_t>(), sa.as<uint8_t>(), b.as<uint8_t>(), sb.as<uint8_t>(), M, N, K, c.as<uint16_t>(), gpu_stream());
      }, reps);
      r.interleave_us = median_us([&] {
        fp8_gemm_wgmma(a.as<uint8_t>(), sa.as<uint8_t>(), b.as<uint8_t>(), sb.as<uint8_t>(), M, N, K, c_il.as<uint16_t>(),
                       gpu_stream(), WgmmaSmem::interleave);
      }, reps);
      r.interleave_diff = count_diff(c, c_il, M * N);
      if (cublaslt_status().available && M % 4 == 0) {
        try {
          r.cublaslt_us = median_us([&] {
            r.cublaslt_algo = cublaslt_gemm(LtGemm::fp8_blockwise, a.as<void>(), fsa.as<float>(), b.as<void>(),
                                            fsb.as<float>(), M, N, K, false, c_lt.as<uint16_t>(), gpu_stream());
          }, reps);
          r.cublaslt_diff = count_diff(c, c_lt, M * N);
        } catch (const std::runtime_error& e) {
          r.cublaslt_algo = e.what();
        }
      }
      rows.push_back(r);
    }
  return rows;
}

}  // namespace v4::gpu
