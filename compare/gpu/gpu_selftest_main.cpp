// v4oracle_gpu_selftest: the CPU-vs-GPU harness. Every op that has a GPU runner (gpu_op.h) runs on the
// CPU (golden's registry) and on the GPU from the same inputs, and the comparator diffs the two files
// bitwise (the ggml test-backend-ops model). Two modes:
//   v4oracle_gpu_selftest [--op NAME ...] [--seed S] [--shape k=v ...] [--recipe R] [--out-dir DIR]
//       seeded inputs at the op's default (or given) shape; prints the comparator's verdict per op.
//   v4oracle_gpu_selftest --exhaustive [--op NAME ...] [--stride S]
//       the ops whose only input is float32 `x` (format casts, portable math) over every float32 bit
//       pattern (S > 1: every S-th chunk of 2^24), plus the shared format definitions vs the hardware
//       conversion instructions (with --op, only if --hardware is given). Prints a table (docs/gpu.md).
//   --cudacore: fp8_gemm's hopper recipe through the wgmma model on CUDA cores, not the tensor cores.
//   --specials: seeded mode with NaN, inf, subnormal and extreme-scale codes planted in the inputs.
//   --cublaslt[=VARIANT]: seeded mode with cuBLASLt's runners (cublaslt_ops.h) instead of the built-in ones.
//   --bench: median times of fp8_gemm_wgmma and cuBLASLt's block-scaled FP8 GEMM at V4-Flash shapes.
// Exit: 0 all bit-equal, 1 any difference, 2 bad usage, 3 CUDA or internal error.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "compare/compare.h"
#include "compare/gpu/cast.h"
#include "compare/gpu/cublaslt.h"
#include "compare/gpu/cublaslt_ops.h"
#include "compare/gpu/fp8_gemm_wgmma.h"
#include "compare/gpu/gpu_op.h"
#include "compare/report.h"
#include "golden/file_meta.h"
#include "golden/ops.h"

namespace {

using namespace v4;
namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Args {
  std::vector<std::string> ops;  // empty: every op with a GPU runner
  uint64_t seed = 1;
  golden::ShapeParams shape;
  Recipe recipe = Recipe::canonical;
  std::string out_dir;
  bool exhaustive = false;
  bool hardware = false;  // exhaustive: the hardware conversion check even when --op selects ops
  uint32_t stride = 1;
  std::string cublaslt;  // "-": the built-in runners; else cuBLASLt's runners of this variant ("" = block scales)
  bool cudacore = false;  // fp8_gemm hopper through the wgmma model on CUDA cores (builtin:cudacore)
  bool specials = false;  // seeded mode: plant NaN, inf, subnormal and extreme-scale codes into the inputs
  bool bench = false;    // time fp8_gemm_wgmma against cuBLASLt (docs/gpu.md)
  std::vector<long long> bench_m = {64, 128, 256, 512, 1024, 2048, 4096}, bench_n = {2048, 4096, 7168, 16384, 32768};
  long long bench_k = 4096;
};

const std::vector<gpu::GpuOp>& runners(const Args& a) {
  static const std::vector<gpu::GpuOp> v = [&] {
    if (a.cublaslt != "-") return gpu::cublaslt_ops(a.cublaslt);
    return a.cudacore ? gpu::gpu_ops_cudacore() : gpu::gpu_op_registry();
  }();
  return v;
}

[[noreturn]] void usage(const char* argv0, const std::string& why) {
  std::fprintf(stderr, "%s: %s\nusage: %s [--exhaustive [--stride S] [--hardware]] [--op NAME ...] [--seed S] [--shape k=v ...] "
               "[--recipe R] [--out-dir DIR] [--specials] [--cudacore] [--cublaslt[=tensorwise|=tensorwise-fastaccum]] | --bench\n", argv0, why.c_str(), argv0);
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  a.cublaslt = "-";
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage(argv[0], s + " needs a value");
      return argv[++i];
    };
    if (s == "--op") a.ops.push_back(next());
    else if (s == "--seed") a.seed = std::stoull(next());
    else if (s == "--stride") a.stride = uint32_t(std::stoul(next()));
    else if (s == "--out-dir") a.out_dir = next();
    else if (s == "--exhaustive") a.exhaustive = true;
    else if (s == "--hardware") a.hardware = true;
    else if (s == "--bench") a.bench = true;
    else if (s == "--specials") a.specials = true;
    else if (s == "--cudacore") a.cudacore = true;
    else if (s == "--cublaslt") a.cublaslt = "";
    else if (s.rfind("--cublaslt=", 0) == 0) a.cublaslt = s.substr(11);
    else if (s == "--recipe") {
      const auto r = recipe_parse(next());
      if (!r) usage(argv[0], "unknown recipe");
      a.recipe = *r;
    } else if (s == "--shape") {
      const std::string kv = next();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) usage(argv[0], "--shape takes k=v");
      a.shape[kv.substr(0, eq)] = std::stoll(kv.substr(eq + 1));
    } else usage(argv[0], "unknown argument " + s);
  }
  if (a.stride == 0) usage(argv[0], "--stride must be >= 1");
  return a;
}

std::vector<const gpu::GpuOp*> selected(const Args& a) {
  std::vector<const gpu::GpuOp*> v;
  for (const gpu::GpuOp& op : runners(a))
    if (a.ops.empty() || std::find(a.ops.begin(), a.ops.end(), op.name) != a.ops.end()) v.push_back(&op);
  for (const std::string& n : a.ops)
    if (std::none_of(v.begin(), v.end(), [&](const gpu::GpuOp* g) { return g->name == n; }))
      throw std::invalid_argument("no GPU runner for op '" + n + "'");
  return v;
}

// ---- seeded mode: CPU op file vs GPU candidate file, through the comparator -----------------------

// --specials: every 61st element of each input becomes a special code of its format, cycling through the
// format's NaN, infinities, largest finite, smallest subnormal and signed zero; a scale tensor's codes
// include 0 (2^-127), 254 (2^127) and 0xFF (NaN). Deterministic, so a failure reproduces.
void plant_specials(Tensor& t) {
  static const uint16_t bf16[] = {0x7FC0, 0x7F80, 0xFF80, 0x7F7F, 0x0001, 0x8000, 0x0080, 0xFF7F};
  static const uint8_t e4m3[] = {0x7F, 0xFF, 0x7E, 0xFE, 0x01, 0x81, 0x80, 0x08};
  static const uint8_t ue8m0[] = {0x00, 0xFE, 0xFF, 0x01, 0xFD};
  static const uint32_t f32[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u, 0x7F7FFFFFu, 0x00000001u, 0x80000000u, 0x00800000u};
  for (int64_t i = 0, k = 0; i < t.numel(); i += 61, ++k) {
    switch (t.fmt) {
      case Fmt::bf16: t.as<uint16_t>()[i] = bf16[k % 8]; break;
      case Fmt::e4m3fn: t.as<uint8_t>()[i] = e4m3[k % 8]; break;
      case Fmt::ue8m0: t.as<uint8_t>()[i] = ue8m0[k % 5]; break;
      case Fmt::f32: std::memcpy(t.data.data() + 4 * i, &f32[k % 7], 4); break;
      default: return;  // other formats: every code is already covered by the random generators
    }
  }
}

// The op's seeded inputs with specials planted, written to `path` (the CPU op then reads them as a file).
void write_special_inputs(const golden::OpSpec& op, uint64_t seed, const golden::ShapeParams& shape,
                          const std::string& path) {
  golden::ShapeParams p = op.defaults;
  for (const auto& [k, v] : shape) p[k] = v;
  std::vector<golden::NamedTensor> in = op.make_inputs(seed, p);
  golden::H5Writer w(path);
  for (golden::NamedTensor& t : in) {
    if (t.t.shape.size() > 0) plant_specials(t.t);  // rank-0 parameters stay valid
    w.write("/" + t.name, t.t);
  }
  w.commit();
}

int run_seeded(const Args& a) {
  const fs::path dir = a.out_dir.empty() ? fs::temp_directory_path() / ("v4_gpu_check_" + std::to_string(::getpid()))
                                         : fs::path(a.out_dir);
  fs::create_directories(dir);
  int failed = 0;
  for (const gpu::GpuOp* g : selected(a)) {
    const golden::OpSpec* op = golden::op_find(g->name);
    if (!op) throw std::logic_error("GPU runner '" + g->name + "' has no CPU op");
    if (gpu::gpu_kernel_name(*g, a.recipe).empty()) {  // e.g. the GEMMs' exact recipe
      std::printf("%-12s skipped: no GPU kernel for recipe %s\n", g->name.c_str(), recipe_name(a.recipe));
      continue;
    }
    golden::ShapeParams shape;
    for (const auto& [k, v] : a.shape)
      if (op->defaults.count(k)) shape[k] = v;
    const std::string cpu_path = (dir / (g->name + ".cpu.h5")).string(), gpu_path = (dir / (g->name + ".gpu.h5")).string();
    std::optional<std::string> special_inputs;
    if (a.specials) {
      special_inputs = (dir / (g->name + ".specials.h5")).string();
      write_special_inputs(*op, a.seed, shape, *special_inputs);
    }
    const std::vector<golden::NamedTensor> outs = golden::op_run_to_file(*op, special_inputs, a.seed, shape, a.recipe, cpu_path);
    std::set<std::string> out_names;
    for (const auto& o : outs) out_names.insert("/" + o.name);
    // The candidate: the CPU file's inputs (read back, so the GPU sees exactly what the file holds), then
    // the GPU's outputs under the same names.
    const golden::H5Reader cpu(cpu_path);
    std::vector<std::pair<std::string, Tensor>> inputs;
    for (const std::string& ds : cpu.datasets())
      if (!out_names.count(ds)) inputs.emplace_back(ds, cpu.read(ds));
    gpu::GpuInputs gin;
    for (const auto& [name, t] : inputs) gin[name.substr(1)] = &t;
    const gpu::GpuOutputs gout = g->run(gin, a.recipe);
    const std::string kernel = gpu::gpu_kernel_name(*g, a.recipe);
    const std::string algo = a.cublaslt == "-" ? "" : " [" + gpu::cublaslt_last_algo() + "]";
    {
      golden::H5Writer w(gpu_path);
      golden::write_file_meta(w, "op", g->name);
      for (const auto& [name, t] : inputs) w.write(name, t);
      for (const auto& [name, t] : gout) w.write("/" + name, t);
      w.commit();
    }
    const compare::CompareResult r = compare::compare_files(cpu_path, gpu_path, compare::CompareOptions{});
    std::printf("%-12s %s: %s%s\n", g->name.c_str(), kernel.c_str(), compare::report_summary_line(r).c_str(), algo.c_str());
    if (!r.pass()) {
      ++failed;
      std::printf("%s\n", compare::report_text(r).c_str());
    }
  }
  std::printf("%s: %d op(s) differ; files in %s\n", failed ? "FAIL" : "PASS", failed, dir.string().c_str());
  if (a.out_dir.empty() && !failed) fs::remove_all(dir);
  return failed ? 1 : 0;
}

// ---- exhaustive mode: every float32 input, output element by element -------------------------------

bool element_differs(const Tensor& a, const Tensor& b, int64_t i) {
  if (a.fmt == Fmt::e2m1x2) return ((a.data[size_t(i / 2)] ^ b.data[size_t(i / 2)]) >> (4 * (i & 1))) & 0xF;
  const size_t sz = fmt_storage_size(a.fmt);
  return std::memcmp(a.data.data() + i * sz, b.data.data() + i * sz, sz) != 0;
}

struct Count {
  unsigned long long bad = 0, inputs = 0;
  uint32_t first = 0xFFFFFFFFu;
};

void row(const std::string& what, const Count& c) {
  if (c.bad)
    std::printf("| %-34s | %llu | %llu | 0x%08x |\n", what.c_str(), c.inputs, c.bad, c.first);
  else
    std::printf("| %-34s | %llu | 0 | - |\n", what.c_str(), c.inputs);
  std::fflush(stdout);
}

int run_exhaustive(const Args& a) {
  constexpr uint32_t kChunk = 1u << 24;
  constexpr uint64_t kAll = 1ull << 32;
  const auto t0 = std::chrono::steady_clock::now();
  std::printf("| check | inputs | mismatches | smallest mismatching input |\n|---|---|---|---|\n");
  int failed = 0;
  Tensor x = Tensor::make(Fmt::f32, {int64_t(kChunk)});
  uint32_t* xb = reinterpret_cast<uint32_t*>(x.data.data());
  for (const gpu::GpuOp* g : selected(a)) {
    const golden::OpSpec* op = golden::op_find(g->name);
    const std::vector<golden::NamedTensor> probe = op->make_inputs(1, op->defaults);
    if (probe.size() != 1 || probe[0].name != "x" || probe[0].t.fmt != Fmt::f32) continue;  // not an x -> f(x) op
    std::vector<Count> counts;
    std::vector<std::string> out_names;
    for (uint64_t base = 0; base < kAll; base += uint64_t(kChunk) * a.stride) {
      for (uint32_t i = 0; i < kChunk; ++i) xb[i] = uint32_t(base) + i;
      const golden::OpInputs in("all float32 inputs", nullptr, {{"x", x}});
      const std::vector<golden::NamedTensor> cpu = op->run(in, a.recipe);
      const gpu::GpuOutputs dev = g->run({{"x", &x}}, a.recipe);
      if (counts.empty()) {
        counts.resize(cpu.size());
        for (const auto& o : cpu) out_names.push_back(o.name);
      }
      for (size_t k = 0; k < cpu.size(); ++k) {
        const Tensor& c = cpu[k].t;
        const Tensor& d = dev.at(k).second;
        if (dev[k].first != cpu[k].name || d.fmt != c.fmt || d.shape != c.shape)
          throw std::logic_error(g->name + ": GPU output " + dev[k].first + " does not match CPU output " + cpu[k].name);
        Count& n = counts[k];
        n.inputs += kChunk;
        if (c.data == d.data) continue;
        for (int64_t i = 0; i < int64_t(kChunk); ++i)
          if (element_differs(c, d, i)) {
            n.first = std::min(n.first, uint32_t(base) + uint32_t(i));
            ++n.bad;
          }
      }
    }
    for (size_t k = 0; k < counts.size(); ++k) {
      row(g->name + " /" + out_names[k] + " device vs host", counts[k]);
      failed += counts[k].bad != 0;
    }
    std::fprintf(stderr, "  %s done, %.0f s\n", g->name.c_str(), seconds_since(t0));
  }
  if (a.ops.empty() || a.hardware) {  // the hardware conversion instructions vs the shared definitions
    unsigned long long mis[3] = {0, 0, 0};
    uint32_t first[3] = {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu};
    unsigned long long inputs = 0;
    for (uint64_t base = 0; base < kAll; base += uint64_t(kChunk) * a.stride) {
      gpu::cast_vs_hardware(uint32_t(base), kChunk, mis, first);
      inputs += kChunk;
    }
    const char* hw[] = {"bf16 shared vs cvt.rn.bf16.f32", "e4m3 shared vs cvt.rn.satfinite", "e5m2 shared vs cvt.rn.satfinite"};
    for (int k = 0; k < 3; ++k) {
      row(hw[k], Count{mis[k], inputs, first[k]});
      failed += mis[k] != 0;
    }
  }
  std::printf("\n%s: %d check(s) with mismatches, %.0f s\n", failed ? "FAIL" : "PASS", failed, seconds_since(t0));
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  try {
    std::printf("device: %s\n", gpu::gpu_device_name().c_str());
    std::printf("cuBLASLt: %s\n", gpu::cublaslt_status().detail.c_str());
    if (a.bench) {
      std::printf("| M | N | K | %s (us) | interleaved layout (us) | cuBLASLt (us) | ratio to cuBLASLt | outputs differing "
                  "(interleaved, cuBLASLt) | cuBLASLt algorithm |\n|---|---|---|---|---|---|---|---|---|\n",
                  gpu::kFp8GemmWgmmaKernel);
      for (const gpu::GemmBenchRow& r : gpu::gemm_bench(a.bench_m, a.bench_n, a.bench_k, 20)) {
        std::printf("| %lld | %lld | %lld | %.1f | %.1f | %.1f | %.2f | %lld, %lld | %s |\n", r.M, r.N, r.K, r.builtin_us,
                    r.interleave_us, r.cublaslt_us, r.cublaslt_us > 0 ? r.builtin_us / r.cublaslt_us : 0.0,
                    r.interleave_diff, r.cublaslt_diff, r.cublaslt_algo.c_str());
        std::fflush(stdout);
      }
      return 0;
    }
    return a.exhaustive ? run_exhaustive(a) : run_seeded(a);
  } catch (const golden::InputError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "v4oracle_gpu_selftest: %s\n", e.what());
    return 3;
  }
}
