// v4oracle_gpu_selftest: proves on a real GPU that the shared host/device headers give the same bits on
// both sides, over every float32 input: (1) every format encoding, device vs host; (2) the shared
// definition vs the hardware conversion instructions (bf16, e4m3/e5m2 satfinite); (3) every portable
// math function, device vs host. Prints a table; exits 1 on any mismatch. Usage:
//   v4oracle_gpu_selftest [--only casts|pmath] [--stride S]   (S > 1 samples every S-th chunk)
#include <cuda_runtime.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "compare/gpu/cast.h"
#include "compare/gpu/pmath.h"
#include "reference/formats.h"
#include "reference/pmath_table.h"

namespace {

constexpr uint32_t kChunk = 1u << 26;
constexpr uint64_t kAll = 1ull << 32;

#define CUDA_CHECK(x)                                                                   \
  do {                                                                                  \
    cudaError_t err_ = (x);                                                             \
    if (err_ != cudaSuccess) {                                                          \
      std::fprintf(stderr, "CUDA error %s at %s:%d\n", cudaGetErrorString(err_), __FILE__, __LINE__); \
      std::exit(3);                                                                     \
    }                                                                                   \
  } while (0)

struct Count {
  unsigned long long bad = 0;
  uint32_t first = 0xFFFFFFFFu;
};

template <class T>
void compare_chunk(const char* name, const std::vector<T>& dev, uint32_t base, T (*host)(float), Count& c) {
  const int64_t n = int64_t(dev.size());
  unsigned long long bad = 0;
  uint32_t first = 0xFFFFFFFFu;
#pragma omp parallel for reduction(+ : bad) reduction(min : first) schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = base + uint32_t(i);
    if (dev[i] != host(v4::f32_from_bits(u))) {
      ++bad;
      first = std::min(first, u);
    }
  }
  if (bad) {
    c.bad += bad;
    c.first = std::min(c.first, first);
  }
  (void)name;
}

uint16_t h_bf16(float x) { return v4::bf16_encode(x); }
uint8_t h_e4m3_sat(float x) { return v4::fp8_e4m3_encode(x, v4::Sat::satfinite); }
uint8_t h_e4m3_nosat(float x) { return v4::fp8_e4m3_encode(x, v4::Sat::nosat); }
uint8_t h_e5m2_sat(float x) { return v4::fp8_e5m2_encode(x, v4::Sat::satfinite); }
uint8_t h_e5m2_nosat(float x) { return v4::fp8_e5m2_encode(x, v4::Sat::nosat); }
uint8_t h_e2m1(float x) { return v4::fp4_e2m1_encode(x); }
uint8_t h_ue8m0(float x) { return v4::ue8m0_encode(x); }

void row(const char* what, const Count& c, uint64_t inputs) {
  if (c.bad)
    std::printf("| %-34s | %llu | %llu | 0x%08x |\n", what, (unsigned long long)inputs, c.bad, c.first);
  else
    std::printf("| %-34s | %llu | 0 | - |\n", what, (unsigned long long)inputs);
  std::fflush(stdout);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  uint32_t stride = 1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!std::strcmp(argv[i], "--stride") && i + 1 < argc) stride = uint32_t(std::stoul(argv[++i]));
    else { std::fprintf(stderr, "usage: %s [--only casts|pmath] [--stride S]\n", argv[0]); return 2; }
  }
  cudaDeviceProp prop{};
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (sm_%d%d), host threads: %d, chunks: every %u-th of %llu\n\n", prop.name, prop.major, prop.minor,
              omp_get_max_threads(), stride, (unsigned long long)(kAll / kChunk));
  std::printf("| check | inputs | mismatches | smallest mismatching input |\n|---|---|---|---|\n");
  int failed = 0;
  const auto t0 = std::chrono::steady_clock::now();

  if (only.empty() || only == "casts") {
    v4::gpu::CastCodes d{};
    CUDA_CHECK(cudaMalloc(&d.bf16, kChunk * 2));
    uint8_t** u8[] = {&d.e4m3_sat, &d.e4m3_nosat, &d.e5m2_sat, &d.e5m2_nosat, &d.e2m1, &d.ue8m0};
    for (uint8_t** p : u8) CUDA_CHECK(cudaMalloc(p, kChunk));
    unsigned long long* d_mis;
    uint32_t* d_first;
    CUDA_CHECK(cudaMalloc(&d_mis, 3 * sizeof(unsigned long long)));
    CUDA_CHECK(cudaMalloc(&d_first, 3 * sizeof(uint32_t)));
    CUDA_CHECK(cudaMemset(d_mis, 0, 3 * sizeof(unsigned long long)));
    CUDA_CHECK(cudaMemset(d_first, 0xFF, 3 * sizeof(uint32_t)));
    std::vector<uint16_t> hb(kChunk);
    std::vector<std::vector<uint8_t>> h8(6, std::vector<uint8_t>(kChunk));
    Count c[7];
    uint64_t inputs = 0;
    for (uint64_t base = 0; base < kAll; base += uint64_t(kChunk) * stride) {
      v4::gpu::cast_all(uint32_t(base), kChunk, d);
      v4::gpu::cast_vs_hardware(uint32_t(base), kChunk, d_mis, d_first);
      CUDA_CHECK(cudaGetLastError());
      CUDA_CHECK(cudaMemcpy(hb.data(), d.bf16, kChunk * 2, cudaMemcpyDeviceToHost));
      for (int k = 0; k < 6; ++k) CUDA_CHECK(cudaMemcpy(h8[k].data(), *u8[k], kChunk, cudaMemcpyDeviceToHost));
      compare_chunk("bf16", hb, uint32_t(base), h_bf16, c[0]);
      uint8_t (*hosts[])(float) = {h_e4m3_sat, h_e4m3_nosat, h_e5m2_sat, h_e5m2_nosat, h_e2m1, h_ue8m0};
      for (int k = 0; k < 6; ++k) compare_chunk("u8", h8[k], uint32_t(base), hosts[k], c[1 + k]);
      inputs += kChunk;
      if ((base / kChunk) % 16 == 0)
        std::fprintf(stderr, "  casts: %llu / %llu inputs, %.0f s\n", (unsigned long long)inputs, (unsigned long long)kAll,
                     seconds_since(t0));
    }
    const char* names[] = {"bf16 device vs host", "e4m3 satfinite device vs host", "e4m3 nosat device vs host",
                           "e5m2 satfinite device vs host", "e5m2 nosat device vs host", "e2m1 device vs host",
                           "ue8m0 device vs host"};
    for (int k = 0; k < 7; ++k) {
      row(names[k], c[k], inputs);
      failed += c[k].bad != 0;
    }
    unsigned long long mis[3];
    uint32_t first[3];
    CUDA_CHECK(cudaMemcpy(mis, d_mis, sizeof mis, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(first, d_first, sizeof first, cudaMemcpyDeviceToHost));
    const char* hw[] = {"bf16 shared vs cvt.rn.bf16.f32", "e4m3 shared vs cvt.rn.satfinite", "e5m2 shared vs cvt.rn.satfinite"};
    for (int k = 0; k < 3; ++k) {
      Count hc;
      hc.bad = mis[k];
      hc.first = first[k];
      row(hw[k], hc, inputs);
      failed += mis[k] != 0;
    }
    cudaFree(d.bf16);
    for (uint8_t** p : u8) cudaFree(*p);
    cudaFree(d_mis);
    cudaFree(d_first);
  }

  if (only.empty() || only == "pmath") {
    uint32_t* d_out;
    CUDA_CHECK(cudaMalloc(&d_out, kChunk * 4));
    std::vector<uint32_t> h(kChunk);
    for (int fn = 0; fn < v4::kPmathCount; ++fn) {
      Count c;
      uint64_t inputs = 0;
      float (*const f)(float) = v4::kPmathTable[fn].fn;
      for (uint64_t base = 0; base < kAll; base += uint64_t(kChunk) * stride) {
        v4::gpu::pmath_eval(fn, uint32_t(base), kChunk, d_out);
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaMemcpy(h.data(), d_out, kChunk * 4, cudaMemcpyDeviceToHost));
        unsigned long long bad = 0;
        uint32_t first = 0xFFFFFFFFu;
#pragma omp parallel for reduction(+ : bad) reduction(min : first) schedule(static)
        for (int64_t i = 0; i < int64_t(kChunk); ++i) {
          const uint32_t u = uint32_t(base) + uint32_t(i);
          if (h[i] != v4::f32_bits(f(v4::f32_from_bits(u)))) {
            ++bad;
            first = std::min(first, u);
          }
        }
        if (bad) {
          c.bad += bad;
          c.first = std::min(c.first, first);
        }
        inputs += kChunk;
      }
      std::fprintf(stderr, "  pmath %s done, %.0f s\n", v4::kPmathTable[fn].name, seconds_since(t0));
      row((std::string(v4::kPmathTable[fn].name) + " device vs host").c_str(), c, inputs);
      failed += c.bad != 0;
    }
    cudaFree(d_out);
  }
  std::printf("\n%s: %d check(s) with mismatches, %.0f s\n", failed ? "FAIL" : "PASS", failed, seconds_since(t0));
  return failed ? 1 : 0;
}
