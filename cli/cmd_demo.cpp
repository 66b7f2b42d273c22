// `v4oracle demo`: the main job on the embedded default (no GPU needed). For now it demonstrates the
// numerics foundation end to end: the cast rules where CUDA and PyTorch disagree, FP8/FP4 activation
// quantization, and an FP8 GEMM at a V4-Flash shape under the three recipes, with how many output bits
// each recipe moves. It writes one op file per step into --out-dir.
#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "compare/compare.h"
#include "compare/report.h"
#include "golden/ops.h"

namespace v4::cli {

namespace {

struct DemoArgs {
  std::string out_dir = "v4oracle-demo";
  uint64_t seed = 2026;
};

int bf16_ulp_distance(uint16_t a, uint16_t b) {
  auto ord = [](uint16_t c) { return (c & 0x8000) ? -int(c & 0x7FFF) : int(c); };
  return std::abs(ord(a) - ord(b));
}

void demo_casts() {
  std::printf("1. Casts (reference/formats.h): the same float32 under each named rule\n");
  std::printf("   %-12s %-12s %-12s %-12s %-10s %-10s\n", "x", "e4m3 satfin", "e4m3 nosat", "e5m2 nosat", "e2m1", "ue8m0");
  const float xs[] = {1.75f, 464.0f, 465.0f, -1e6f, 61440.0f, 0.75f, -0.0f, 3e-3f};
  for (float x : xs)
    std::printf("   %-12g 0x%02X %-7g 0x%02X %-7g 0x%02X %-7g 0x%X %-5g 0x%02X\n", x, fp8_e4m3_encode(x, Sat::satfinite),
                fp8_e4m3_decode(fp8_e4m3_encode(x, Sat::satfinite)), fp8_e4m3_encode(x, Sat::nosat),
                fp8_e4m3_decode(fp8_e4m3_encode(x, Sat::nosat)), fp8_e5m2_encode(x, Sat::nosat),
                fp8_e5m2_decode(fp8_e5m2_encode(x, Sat::nosat)), fp4_e2m1_encode(x), fp4_e2m1_decode(fp4_e2m1_encode(x)),
                ue8m0_encode(x));
}

std::vector<golden::NamedTensor> run_op(const DemoArgs& a, const char* name, const golden::ShapeParams& shape,
                                        Recipe r, const std::string& file, const std::optional<std::string>& replay = {}) {
  const std::string path = (std::filesystem::path(a.out_dir) / file).string();
  return golden::op_run_to_file(*golden::op_find(name), replay, a.seed, shape, r, path);
}

void demo_gemm(const DemoArgs& a) {
  std::printf("\n3. fp8_gemm at a V4-Flash shape (M=64 tokens, K=4096, N=512 of wq_a's 1024 rows), three recipes\n");
  const golden::ShapeParams shape = {{"M", 64}, {"N", 512}, {"K", 4096}};
  const auto canon = run_op(a, "fp8_gemm", shape, Recipe::canonical, "fp8_gemm_canonical.h5");
  const std::string inputs = (std::filesystem::path(a.out_dir) / "fp8_gemm_canonical.h5").string();
  const auto hop = run_op(a, "fp8_gemm", {}, Recipe::hopper, "fp8_gemm_hopper.h5", inputs);
  const auto ex = run_op(a, "fp8_gemm", {}, Recipe::exact, "fp8_gemm_exact.h5", inputs);
  auto diff = [](const Tensor& x, const Tensor& y, const char* what) {
    const uint16_t* p = x.as<uint16_t>();
    const uint16_t* q = y.as<uint16_t>();
    int64_t differ = 0;
    int worst = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      differ += p[i] != q[i];
      worst = std::max(worst, bf16_ulp_distance(p[i], q[i]));
    }
    std::printf("   %-22s %6lld of %lld bf16 outputs differ, max %d bf16 ulp\n", what, (long long)differ,
                (long long)x.numel(), worst);
  };
  diff(canon[0].t, ex[0].t, "canonical vs exact:");
  diff(hop[0].t, ex[0].t, "hopper vs exact:");
  diff(canon[0].t, hop[0].t, "canonical vs hopper:");
  std::printf("   (hopper truncates each k32 wgmma to 13 fraction bits; a kernel on real tensor cores matches hopper,\n"
              "    a kernel with exact block sums matches canonical: the recipe is part of the verdict)\n");

  std::printf("\n4. The comparator on the hopper output as if it were a candidate kernel's, golden = canonical\n");
  const std::string golden = inputs;
  const std::string cand = (std::filesystem::path(a.out_dir) / "fp8_gemm_hopper.h5").string();
  const std::string html = (std::filesystem::path(a.out_dir) / "compare_canonical_vs_hopper.html").string();
  const compare::CompareResult r = compare::compare_files(golden, cand, compare::CompareOptions{});
  compare::report_write_atomic(html, compare::report_html(r));
  std::printf("   %s\n", compare::report_summary_line(r).c_str());
  if (r.verdict() >= 0 && !r.tensors[size_t(r.verdict())].terms_text.empty())  // large ulps explained in words
    std::printf("   %s\n", r.tensors[size_t(r.verdict())].terms_text.c_str());
  std::printf("   HTML report: %s\n   (same check from the shell: v4oracle compare %s %s --html r.html; exit status 1)\n",
              html.c_str(), golden.c_str(), cand.c_str());
}

}  // namespace

void register_demo(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* sub = app.add_subcommand("demo", "Run the built-in demonstration (no GPU needed)");
  sub->add_option("--out-dir", args->out_dir, "directory for the files the demo writes");
  sub->add_option("--seed", args->seed, "seed of the generated inputs");
  add_help_footer(sub, "v4oracle demo --out-dir v4oracle-demo --seed 2026");
  sub->callback([args] {
    std::filesystem::create_directories(args->out_dir);
    std::printf("v4oracle demo: numerics foundation (seed %llu, files in %s/)\n\n", (unsigned long long)args->seed,
                args->out_dir.c_str());
    demo_casts();
    std::printf("\n2. Activation quantization of a [4, 4096] bf16 activation\n");
    const auto q8 = run_op(*args, "act_quant", {{"n", 4096}}, Recipe::canonical, "act_quant.h5");
    const auto q4 = run_op(*args, "fp4_act_quant", {{"n", 4096}}, Recipe::canonical, "fp4_act_quant.h5");
    auto scale_range = [](const Tensor& s) {
      const uint8_t* p = s.as<uint8_t>();
      const auto [lo, hi] = std::minmax_element(p, p + s.numel());
      return std::pair<int, int>(int(*lo) - 127, int(*hi) - 127);
    };
    const auto r8 = scale_range(q8[1].t), r4 = scale_range(q4[1].t);
    std::printf("   act_quant:     %lld ue8m0 scales (blocks of 128) in 2^%d .. 2^%d\n", (long long)q8[1].t.numel(), r8.first, r8.second);
    std::printf("   fp4_act_quant: %lld ue8m0 scales (blocks of 32)  in 2^%d .. 2^%d\n", (long long)q4[1].t.numel(), r4.first, r4.second);
    demo_gemm(*args);
    std::printf("\nReplay any step: v4oracle op <name> --inputs %s/<file>.h5 [--recipe R] -o out.h5\n", args->out_dir.c_str());
  });
}

}  // namespace v4::cli
