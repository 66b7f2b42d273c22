// GEMM recipe benchmark and Hopper-model validation driver (docs/gemm.md).
//   bench_gemm [--shapes small|flash|all] [--reps N] [--max-seconds S] [--only GEMM/RECIPE,...] [--plain]
//       times fp8/fp4/bf16/f32 GEMMs under every recipe against an Eigen fp32 GEMM of the same M, N, K,
//       single-threaded and with all OpenMP threads; prints GFLOP/s (2·M·N·K / best time) and the ratio.
//       --plain also times the plain reference loops (the *_plain functions) of each row and prints their
//       time, their ratio to Eigen and the speed-up of the tiled kernels over them.
//   bench_gemm --validate DIR
//       reads DIR/manifest.txt (scripts/validate_hopper.py export) and counts, per GPU output, the outputs
//       whose fp32 bits equal each model of reference/gemm.h.
#include <Eigen/Dense>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "reference/formats.h"
#include "reference/gemm.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Validation against captured GPU results.
template <class T>
std::vector<T> read_bin(const std::string& path, size_t count) {
  std::ifstream f(path, std::ios::binary);
  std::vector<T> v(count);
  if (!f.read(reinterpret_cast<char*>(v.data()), std::streamsize(count * sizeof(T))))
    throw std::runtime_error("cannot read " + std::to_string(count) + " elements from " + path);
  return v;
}

struct Case {
  std::string name, dtype, a, b, c;
  int64_t M = 0, N = 0, K = 0;
  std::vector<std::pair<std::string, std::string>> outs;  // run, file
};

// The model each GPU run is claimed to follow (docs/gemm.md).
const char* expected_model(const std::string& run) {
  if (run == "cublas_fast" || run.rfind("triton_chain", 0) == 0) return "chain";
  if (run == "cublas_slow" || run.rfind("triton_p128", 0) == 0) return "promote128";
  if (run.rfind("triton_p32", 0) == 0) return "promote32";
  return "?";
}

int validate(const std::string& dir) {
  std::ifstream mf(dir + "/manifest.txt");
  if (!mf) {
    std::fprintf(stderr, "bench_gemm --validate: cannot open %s/manifest.txt\n", dir.c_str());
    return 2;
  }
  std::vector<Case> cases;
  std::string line;
  while (std::getline(mf, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream is(line);
    std::string tag;
    is >> tag;
    if (tag == "case") {
      Case c;
      is >> c.name >> c.dtype >> c.M >> c.N >> c.K >> c.a >> c.b >> c.c;
      cases.push_back(c);
    } else if (tag == "out") {
      std::string name, run, file;
      is >> name >> run >> file;
      if (cases.empty() || cases.back().name != name) throw std::runtime_error("manifest: out before its case: " + line);
      cases.back().outs.emplace_back(run, file);
    }
  }
  std::printf("%-34s %-20s %-10s  %s\n", "case", "gpu run", "expected", "bit matches per model (of M*N outputs)");
  int64_t exp_match = 0, exp_total = 0, full_cases = 0, runs = 0;
  for (const Case& cs : cases) {
    const size_t mn = size_t(cs.M * cs.N), mk = size_t(cs.M * cs.K), nk = size_t(cs.N * cs.K);
    std::vector<float> c_init;
    if (cs.c != "-") c_init = read_bin<float>(dir + "/" + cs.c, mn);
    const float* ci = c_init.empty() ? nullptr : c_init.data();
    std::map<std::string, std::vector<float>> model;
    auto run_model = [&](const std::string& key, const std::function<void(float*)>& f) {
      model[key].resize(mn);
      f(model[key].data());
    };
    if (cs.dtype == "e4m3") {
      const auto a = read_bin<uint8_t>(dir + "/" + cs.a, mk), b = read_bin<uint8_t>(dir + "/" + cs.b, nk);
      run_model("chain", [&](float* o) { v4::hopper_fp8_gemm_f32(a.data(), b.data(), cs.M, cs.N, cs.K, 0, ci, o); });
      run_model("promote32", [&](float* o) { v4::hopper_fp8_gemm_f32(a.data(), b.data(), cs.M, cs.N, cs.K, 32, ci, o); });
      if (cs.K % 128 == 0 && !ci) {
        run_model("promote128",
                  [&](float* o) { v4::hopper_fp8_gemm_f32(a.data(), b.data(), cs.M, cs.N, cs.K, 128, ci, o); });
        // The recipes themselves, with unit scales (ue8m0 code 127 = 1.0).
        const std::vector<uint8_t> sa(size_t(cs.M * cs.K / 128), 127), sb(size_t((cs.N + 127) / 128 * cs.K / 128), 127);
        for (v4::Recipe r : {v4::Recipe::hopper, v4::Recipe::canonical, v4::Recipe::exact})
          run_model(std::string("recipe_") + v4::recipe_name(r), [&](float* o) {
            v4::fp8_gemm_f32acc(a.data(), sa.data(), b.data(), sb.data(), cs.M, cs.N, cs.K, r, o);
          });
      }
    } else {
      const auto a = read_bin<uint16_t>(dir + "/" + cs.a, mk), b = read_bin<uint16_t>(dir + "/" + cs.b, nk);
      run_model("chain", [&](float* o) { v4::hopper_bf16_gemm_f32(a.data(), b.data(), cs.M, cs.N, cs.K, ci, o); });
      if (!ci)
        for (v4::Recipe r : {v4::Recipe::hopper, v4::Recipe::canonical, v4::Recipe::exact})
          run_model(std::string("recipe_") + v4::recipe_name(r),
                    [&](float* o) { v4::bf16_gemm_f32acc(a.data(), b.data(), cs.M, cs.N, cs.K, r, o); });
    }
    for (const auto& [run, file] : cs.outs) {
      const auto gpu = read_bin<float>(dir + "/" + file, mn);
      const std::string want = expected_model(run);
      std::string row;
      int64_t first_bad = -1;
      for (const auto& [key, out] : model) {
        int64_t same = 0;
        for (size_t i = 0; i < mn; ++i) {
          const bool eq = v4::f32_bits(out[i]) == v4::f32_bits(gpu[i]);
          same += eq;
          if (!eq && key == want && first_bad < 0) first_bad = int64_t(i);
        }
        row += " " + key + "=" + std::to_string(same);
        if (key == want) {
          exp_match += same;
          exp_total += int64_t(mn);
          full_cases += same == int64_t(mn);
          ++runs;
        }
      }
      std::printf("%-34s %-20s %-10s %s /%zu\n", cs.name.c_str(), run.c_str(), want.c_str(), row.c_str(), mn);
      if (first_bad >= 0) {
        const float g = gpu[size_t(first_bad)], m = model[want][size_t(first_bad)];
        std::printf("    first mismatch vs %s at (m=%lld, n=%lld): gpu 0x%08X (%.9g) model 0x%08X (%.9g)\n", want.c_str(),
                    (long long)(first_bad / cs.N), (long long)(first_bad % cs.N), v4::f32_bits(g), double(g),
                    v4::f32_bits(m), double(m));
      }
    }
  }
  std::printf("\nexpected model: %lld / %lld outputs bit-identical; %lld / %lld GPU runs fully matched\n",
              (long long)exp_match, (long long)exp_total, (long long)full_cases, (long long)runs);
  return exp_match == exp_total ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Timing.
struct Shape {
  const char* name;
  int64_t M, N, K;
};

struct Inputs {
  std::vector<uint8_t> a8, sa, b8, sb8, b4, sb4;
  std::vector<uint16_t> a16, b16;
  std::vector<float> a32, b32;
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> ea, eb, ec;
};

Inputs make_inputs(const Shape& s) {
  std::mt19937_64 rng(12345);
  auto fp8 = [&](size_t n) {  // finite e4m3 codes, activations-like spread
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = v4::fp8_e4m3_encode(float(std::normal_distribution<double>(0.0, 64.0)(rng)), v4::Sat::satfinite);
    return v;
  };
  auto scales = [&](size_t n) {
    std::vector<uint8_t> v(n);
    for (auto& x : v) x = uint8_t(120 + rng() % 8);
    return v;
  };
  Inputs in;
  const size_t M = size_t(s.M), N = size_t(s.N), K = size_t(s.K);
  in.a8 = fp8(M * K);
  in.sa = scales(M * K / 128);
  in.b8 = fp8(N * K);
  in.sb8 = scales((N + 127) / 128 * K / 128);
  in.b4.resize(N * K / 2);
  for (auto& x : in.b4) x = uint8_t(rng());
  in.sb4 = scales(N * K / 32);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  in.a32.resize(M * K);
  in.b32.resize(N * K);
  for (auto& x : in.a32) x = nd(rng);
  for (auto& x : in.b32) x = nd(rng);
  in.a16.resize(M * K);
  in.b16.resize(N * K);
  for (size_t i = 0; i < M * K; ++i) in.a16[i] = v4::bf16_encode(in.a32[i]);
  for (size_t i = 0; i < N * K; ++i) in.b16[i] = v4::bf16_encode(in.b32[i]);
  in.ea = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(in.a32.data(), s.M, s.K);
  in.eb = Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(in.b32.data(), s.N, s.K);
  in.ec.resize(s.M, s.N);
  return in;
}

// Best wall time of up to `reps` runs; stops repeating once the runs so far took max_seconds.
double best_time(const std::function<void()>& f, int reps, double max_seconds) {
  double best = 1e300, spent = 0;
  for (int r = 0; r < reps && (r == 0 || spent < max_seconds); ++r) {
    const auto t0 = Clock::now();
    f();
    const double t = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::min(best, t);
    spent += t;
  }
  return best;
}

// only: comma-separated "gemm/recipe" names to time (e.g. "fp8/canonical,bf16/exact"); empty = all.
bool selected(const std::string& only, const std::string& name) {
  if (only.empty()) return true;
  return ("," + only + ",").find("," + name + ",") != std::string::npos;
}

int bench(const std::string& which, int reps, double max_seconds, const std::string& only, bool plain) {
  std::vector<Shape> shapes;
  if (which == "small" || which == "all") shapes.push_back({"small", 64, 512, 1024});
  if (which == "flash" || which == "all") {
    shapes.push_back({"flash-2048", 64, 2048, 4096});
    shapes.push_back({"flash-32768", 64, 32768, 4096});
  }
  const int max_threads = omp_get_max_threads();
  std::vector<int> thread_counts = {1};
  if (max_threads > 1) thread_counts.push_back(max_threads);
  std::printf("GFLOP/s = 2*M*N*K / best of %d runs (a run stops repeating after %.0f s); ratio = GFLOP/s / Eigen's\n",
              reps, max_seconds);
  std::printf("%-12s %-8s %-7s %-10s %12s %10s %8s", "shape", "threads", "gemm", "recipe", "time_ms", "GFLOP/s", "ratio");
  std::printf(plain ? " %12s %10s %10s\n" : "\n", "plain_ms", "plain_rat", "speedup");
  for (const Shape& s : shapes) {
    Inputs in = make_inputs(s);
    std::vector<uint16_t> c16(size_t(s.M * s.N));
    std::vector<float> c32(size_t(s.M * s.N));
    const double flops = 2.0 * double(s.M) * double(s.N) * double(s.K);
    for (int threads : thread_counts) {
      omp_set_num_threads(threads);
      Eigen::setNbThreads(threads);
      const double te = best_time([&] { in.ec.noalias() = in.ea * in.eb.transpose(); }, reps, max_seconds);
      const double eigen_gflops = flops / te / 1e9;
      // f(use_plain) runs the GEMM through the tiled kernels (false) or the plain loops (true).
      auto row = [&](const char* gemm, const char* recipe, const std::function<void(bool)>& f) {
        if (!selected(only, std::string(gemm) + "/" + recipe)) return;
        const double t = best_time([&] { f(false); }, reps, max_seconds);
        std::printf("%-12s %-8d %-7s %-10s %12.2f %10.2f %8.3f", s.name, threads, gemm, recipe, t * 1e3,
                    flops / t / 1e9, flops / t / 1e9 / eigen_gflops);
        if (plain) {
          const double tp = best_time([&] { f(true); }, reps, max_seconds);
          std::printf(" %12.2f %10.4f %10.1f", tp * 1e3, flops / tp / 1e9 / eigen_gflops, tp / t);
        }
        std::printf("\n");
        std::fflush(stdout);
      };
      std::printf("%-12s %-8d %-7s %-10s %12.2f %10.2f %8.3f\n", s.name, threads, "eigen", "f32", te * 1e3,
                  eigen_gflops, 1.0);
      for (v4::Recipe r : {v4::Recipe::canonical, v4::Recipe::hopper, v4::Recipe::exact}) {
        const char* rn = v4::recipe_name(r);
        row("fp8", rn, [&](bool p) {
          (p ? v4::fp8_gemm_plain : v4::fp8_gemm)(in.a8.data(), in.sa.data(), in.b8.data(), in.sb8.data(), s.M, s.N,
                                                  s.K, r, c16.data());
        });
        row("fp4", rn, [&](bool p) {
          (p ? v4::fp4_gemm_plain : v4::fp4_gemm)(in.a8.data(), in.sa.data(), in.b4.data(), in.sb4.data(), s.M, s.N,
                                                  s.K, r, c16.data());
        });
        row("bf16", rn, [&](bool p) {
          (p ? v4::bf16_gemm_plain : v4::bf16_gemm)(in.a16.data(), in.b16.data(), s.M, s.N, s.K, r, c16.data());
        });
        row("f32", rn, [&](bool p) {
          (p ? v4::f32_gemm_plain : v4::f32_gemm)(in.a32.data(), in.b32.data(), s.M, s.N, s.K, r, c32.data());
        });
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string shapes = "all", validate_dir, only;
  int reps = 5;
  double max_seconds = 10.0;
  bool plain = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_gemm: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--validate") validate_dir = next();
    else if (arg == "--shapes") shapes = next();
    else if (arg == "--reps") reps = std::stoi(next());
    else if (arg == "--max-seconds") max_seconds = std::stod(next());
    else if (arg == "--only") only = next();
    else if (arg == "--plain") plain = true;
    else {
      std::fprintf(stderr,
                   "usage: bench_gemm [--shapes small|flash|all] [--reps N] [--max-seconds S] [--only GEMM/RECIPE,...] [--plain]\n"
                   "       bench_gemm --validate DIR\n");
      return 2;
    }
  }
  try {
    return validate_dir.empty() ? bench(shapes, reps, max_seconds, only, plain) : validate(validate_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_gemm: %s\n", e.what());
    return 2;
  }
}
