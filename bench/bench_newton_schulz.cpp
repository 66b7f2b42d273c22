// Newton-Schulz benchmark (docs/newton_schulz.md "Speed"): one step of the hybrid schedule on a
// rows x cols matrix, and optionally the whole 10-step schedule, timed against the bf16 canonical GEMMs
// of the same FLOPs in the same run. One step on X [R, C] (R = min, C = max) is three GEMMs:
//   X·Xᵀ (R x R, K = C), (c·A)·A (R x R, K = R), B·X (R x C, K = R): 2·(2·R²·C + R³) FLOPs,
// plus elementwise bf16 work and transposes; the ratio NS time / GEMM time is the overhead (goal <= 1.2).
//   bench_newton_schulz [--rows 4096] [--cols 2048] [--threads 1,2] [--reps 3] [--full]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/newton_schulz.h"
#include "reference/random_tensor.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds(const std::function<void()>& f) {
  const auto t0 = Clock::now();
  f();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<uint16_t> bf16_of(const v4::Tensor& t) {
  std::vector<uint16_t> c(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) c[size_t(i)] = v4::bf16_encode(t.as<float>()[i]);
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 4096, cols = 2048;
  int reps = 3;
  bool full = false;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--rows") rows = std::stoll(next());
    else if (a == "--cols") cols = std::stoll(next());
    else if (a == "--reps") reps = std::stoi(next());
    else if (a == "--full") full = true;
    else if (a == "--threads") {
      threads.clear();
      std::stringstream ss(next());
      for (std::string t; std::getline(ss, t, ',');) threads.push_back(std::stoi(t));
    } else {
      std::fprintf(stderr, "usage: bench_newton_schulz [--rows R] [--cols C] [--threads 1,2] [--reps N] [--full]\n");
      return 2;
    }
  }
  const int64_t R = std::min(rows, cols), C = std::max(rows, cols);
  const double flops_step = 2.0 * (2.0 * double(R) * double(R) * double(C) + double(R) * double(R) * double(R));
  const std::vector<uint16_t> g = bf16_of(v4::random_normal_f32(1, "g", {rows, cols}, 1e-3f));
  // GEMM operands of the step's shapes (their values do not change the canonical GEMM's speed).
  const std::vector<uint16_t> x = bf16_of(v4::random_normal_f32(2, "x", {R, C}, 0.02f));
  const std::vector<uint16_t> a = bf16_of(v4::random_normal_f32(3, "a", {R, R}, 0.02f));
  std::vector<uint16_t> out(size_t(R * C)), c_rr(size_t(R * R)), c_rc(size_t(R * C));
  const std::vector<v4::NsCoeffs> hyb = v4::ns_schedule(v4::NsSchedule::v4_hybrid);
  const std::vector<v4::NsCoeffs> one(hyb.begin(), hyb.begin() + 1);

  std::printf("Newton-Schulz on %lld x %lld (working X [%lld, %lld]), canonical recipe, best of %d\n", (long long)rows,
              (long long)cols, (long long)R, (long long)C, reps);
  std::printf("one step = %.1f GFLOP in three bf16 GEMMs\n", flops_step * 1e-9);
  std::printf("| threads | 3 GEMMs: s | GFLOP/s | NS, 1 step: s | ratio |%s\n",
              full ? " NS, 10 steps: s | ratio (vs 10 x GEMMs) |" : "");
  std::printf("|---:|---:|---:|---:|---:|%s\n", full ? "---:|---:|" : "");
  for (int t : threads) {
    omp_set_num_threads(t);
    double gemm = 1e30, ns1 = 1e30;
    for (int r = 0; r < reps; ++r) {  // interleaved, so a busy machine slows both alike
      gemm = std::min(gemm, seconds([&] {
                        v4::bf16_gemm(x.data(), x.data(), R, R, C, v4::Recipe::canonical, c_rr.data());
                        v4::bf16_gemm(a.data(), a.data(), R, R, R, v4::Recipe::canonical, c_rr.data());
                        v4::bf16_gemm(a.data(), x.data(), R, C, R, v4::Recipe::canonical, c_rc.data());
                      }));
      ns1 = std::min(ns1, seconds([&] {
                       v4::newton_schulz(g.data(), rows, cols, one.data(), 1, v4::kNsEps, v4::Recipe::canonical,
                                         out.data());
                     }));
    }
    std::printf("| %d | %.3f | %.1f | %.3f | %.3f |", t, gemm, flops_step / gemm * 1e-9, ns1, ns1 / gemm);
    if (full) {
      const double ns10 = seconds([&] {
        v4::newton_schulz(g.data(), rows, cols, hyb.data(), int64_t(hyb.size()), v4::kNsEps, v4::Recipe::canonical,
                          out.data());
      });
      std::printf(" %.3f | %.3f |", ns10, ns10 / (10.0 * gemm));
    }
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}
