// Newton-Schulz benchmark (docs/newton_schulz.md "Speed"): one step of the hybrid schedule on a
// rows x cols matrix, and optionally the whole 10-step schedule, timed against the bf16 canonical GEMMs
// of the same FLOPs in the same run. One step on X [R, C] (R = min, C = max) is three GEMMs:
//   X·Xᵀ (R x R, K = C), (c·A)·A (R x R, K = R), B·X (R x C, K = R): 2·(2·R²·C + R³) FLOPs,
// plus elementwise bf16 work and transposes; the ratio NS time / GEMM time is the overhead (goal <= 1.2).
//   bench_newton_schulz [--rows 4096] [--cols 2048] [--threads 1,2] [--reps 3] [--full]
//   bench_newton_schulz --validate DIR
//       reads a GPU capture (scripts/validate_newton_schulz.py) and counts, per GPU run, the outputs and
//       per-step traces whose bf16 bits equal the hopper and canonical recipes.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/newton_schulz.h"
#include "reference/pmath.h"
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

std::vector<uint16_t> read_codes(const std::string& path, int64_t offset, int64_t count) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint16_t> v(static_cast<size_t>(count));
  f.seekg(offset);
  if (!f.read(reinterpret_cast<char*>(v.data()), std::streamsize(count * 2)))
    throw std::runtime_error("cannot read " + std::to_string(count) + " bf16 codes at " + std::to_string(offset) + " of " + path);
  return v;
}

int64_t count_equal(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
  int64_t n = 0;
  for (size_t i = 0; i < a.size(); ++i) n += a[i] == b[i];
  return n;
}

// For every case of the manifest: our hopper and canonical results (with traces) against each GPU run.
int validate(const std::string& dir) {
  std::ifstream mf(dir + "/manifest.txt");
  if (!mf) {
    std::fprintf(stderr, "bench_newton_schulz --validate: cannot open %s/manifest.txt\n", dir.c_str());
    return 2;
  }
  struct Run {
    int64_t out = -1;
    int norm = -1;
    std::map<int, int64_t> trace;
  };
  struct Case {
    int64_t rows = 0, cols = 0, g = 0;
    std::map<std::string, Run> runs;
  };
  std::vector<std::string> order;
  std::map<std::string, Case> cases;
  for (std::string line; std::getline(mf, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string kind, name, run;
    ls >> kind >> name;
    if (kind == "case") {
      Case& c = cases[name];
      ls >> c.rows >> c.cols >> c.g;
      order.push_back(name);
    } else if (kind == "out") {
      ls >> run >> cases[name].runs[run].out;
    } else if (kind == "norm") {
      ls >> run >> cases[name].runs[run].norm;
    } else if (kind == "trace") {
      int k;
      int64_t off;
      ls >> run >> k >> off;
      cases[name].runs[run].trace[k] = off;
    }
  }
  const std::vector<v4::NsCoeffs> hyb = v4::ns_schedule(v4::NsSchedule::v4_hybrid);
  bool all_hopper = true;
  for (const std::string& name : order) {
    const Case& c = cases[name];
    const std::string file = dir + "/" + name + ".bin";
    const int64_t n = c.rows * c.cols;
    const std::vector<uint16_t> g = read_codes(file, c.g, n);
    std::map<v4::Recipe, std::vector<uint16_t>> ours;
    std::map<v4::Recipe, std::vector<std::vector<uint16_t>>> traces;
    for (v4::Recipe r : {v4::Recipe::hopper, v4::Recipe::canonical}) {
      ours[r].resize(size_t(n));
      v4::newton_schulz(g.data(), c.rows, c.cols, hyb.data(), int64_t(hyb.size()), v4::kNsEps, r, ours[r].data(),
                        &traces[r]);
    }
    const int norm = v4::bf16_encode(v4::pmath::sqrt(v4::ns_sum_squares(g.data(), n, v4::Recipe::canonical)));
    for (const auto& [run, rr] : c.runs) {
      const std::vector<uint16_t> gpu = read_codes(file, rr.out, n);
      std::printf("%-14s %-13s norm %s", name.c_str(), run.c_str(), rr.norm == norm ? "equal" : "DIFFERS");
      for (v4::Recipe r : {v4::Recipe::hopper, v4::Recipe::canonical}) {
        const int64_t eq = count_equal(gpu, ours[r]);
        std::printf(" | %s: %lld/%lld outputs equal", v4::recipe_name(r), (long long)eq, (long long)n);
        if (!rr.trace.empty()) {
          int first = -1;
          int64_t first_diff = 0;
          for (const auto& [k, off] : rr.trace) {
            const std::vector<uint16_t> t = read_codes(file, off, n);
            const int64_t e = count_equal(t, traces[r][size_t(k)]);
            if (e != n) {
              first = k, first_diff = n - e;
              break;
            }
          }
          if (first < 0)
            std::printf(", every step equal");
          else
            std::printf(", first differing step %d (%lld elements)", first, (long long)first_diff);
        }
        if (r == v4::Recipe::hopper && run == "triton_chain" && eq != n) all_hopper = false;
      }
      std::printf("\n");
    }
  }
  std::printf("%s\n", all_hopper ? "triton_chain == hopper recipe on every case" : "triton_chain differs from the hopper recipe");
  return all_hopper ? 0 : 1;
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
    else if (a == "--validate") return validate(next());
    else if (a == "--threads") {
      threads.clear();
      std::stringstream ss(next());
      for (std::string t; std::getline(ss, t, ',');) threads.push_back(std::stoi(t));
    } else {
      std::fprintf(stderr, "usage: bench_newton_schulz [--rows R] [--cols C] [--threads 1,2] [--reps N] [--full]\n"
                           "       bench_newton_schulz --validate DIR\n");
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
