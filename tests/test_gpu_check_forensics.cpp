// Recipe forensics (compare/harness/forensics.h) and the gpu-check CLI. A stand-in whose bits follow a
// known schedule (written here with the test's own loops) must be named as exactly that schedule; the
// CPU recipes as the unsplit variants.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "compare/harness/forensics.h"
#include "compare/harness/op_exec.h"
#include "golden/ops.h"
#include "reference/formats.h"
#include "support/cli_run.h"
#include "support/op_inputs.h"
#include "support/temp_dir.h"

namespace v4::harness {
namespace {

using Acc = GemmVariant::Acc;
// Seed 7: any seed will do; the expectations are recomputed from the inputs.
struct OpData : v4::test::SeededOpInputs {
  OpData(const std::string& op, golden::ShapeParams shape) : SeededOpInputs(op, std::move(shape), 7) {}
};
using Reduce = GemmVariant::Reduce;


// bf16 A·Bᵀ, K in `splits` equal parts, each an fp32 fma chain from +0, partials added last to first.
Tensor splitk_reversed(const Tensor& a, const Tensor& b, int64_t splits) {
  const int64_t M = a.shape[0], N = b.shape[0], K = a.shape[1], L = K / splits;
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float sum = 0.0f;
      for (int64_t s = splits - 1; s >= 0; --s) {
        float p = 0.0f;
        for (int64_t k = s * L; k < (s + 1) * L; ++k)
          p = std::fma(bf16_decode(a.as<uint16_t>()[m * K + k]), bf16_decode(b.as<uint16_t>()[n * K + k]), p);
        sum = s == splits - 1 ? p : sum + p;
      }
      c.as<uint16_t>()[m * N + n] = bf16_encode(sum);
    }
  return c;
}

// fp8 A·Bᵀ with K in 2 halves: per 128-block the exact partial (a double sum of e4m3 products is exact:
// multiples of 2^-18 below 2^25) rounded to fp32, promoted with fma(p, sa·sb, acc) per half from +0,
// the halves added in order.
Tensor fp8_split2(const Inputs& in) {
  const Tensor &a = *in.at("a"), &as = *in.at("a_scale"), &b = *in.at("b"), &bs = *in.at("b_scale");
  const int64_t M = a.shape[0], N = b.shape[0], K = a.shape[1], nkb = K / 128;
  Tensor c = Tensor::make(Fmt::bf16, {M, N});
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      float half[2] = {0.0f, 0.0f};
      for (int64_t kb = 0; kb < nkb; ++kb) {
        double p = 0;
        for (int64_t k = kb * 128; k < kb * 128 + 128; ++k)
          p += double(fp8_e4m3_decode(a.as<uint8_t>()[m * K + k])) * double(fp8_e4m3_decode(b.as<uint8_t>()[n * K + k]));
        const float s = ue8m0_decode(as.as<uint8_t>()[m * nkb + kb]) * ue8m0_decode(bs.as<uint8_t>()[(n / 128) * nkb + kb]);
        float& h = half[kb < nkb / 2 ? 0 : 1];
        h = std::fma(float(p), s, h);
      }
      c.as<uint16_t>()[m * N + n] = bf16_encode(half[0] + half[1]);
    }
  return c;
}

TEST(GpuCheckForensics, NamesAKnownFp8SplitExactly) {
  // Random blocks between a first block of +128·448² and a last of -128·448² (unit scales): the fp32
  // accumulator holds 2^24.6 while the middle blocks add, so where it is split shows in the bf16 bits.
  OpData d("fp8_gemm", {{"M", 32}, {"N", 256}, {"K", 1024}});
  for (golden::NamedTensor& nt : d.tensors) {
    uint8_t* x = nt.t.as<uint8_t>();
    const int64_t K = 1024;
    if (nt.name == "a_scale" || nt.name == "b_scale") std::fill(x, x + nt.t.numel(), uint8_t(127));  // 1.0
    if (nt.name == "a" || nt.name == "b")
      for (int64_t r = 0; r < nt.t.shape[0]; ++r)
        for (int64_t k = 0; k < 128; ++k) {
          x[r * K + k] = 0x7E;                                      // +448
          x[r * K + K - 128 + k] = nt.name == "a" ? 0x7E : 0xFE;  // a·b = -448² in the last block
        }
  }
  const ForensicsResult f = recipe_forensics("fp8_gemm", d.in, fp8_split2(d.in));
  ASSERT_TRUE(f.match) << f.text();
  EXPECT_EQ(*f.match, (GemmVariant{2, Reduce::in_order, Acc::fma_chain, 128, true})) << f.text();
}

TEST(GpuCheckForensics, SplitBoundsAreEqualPartsOnTheGranule) {
  EXPECT_EQ(split_bounds(256, 4, 16), (std::vector<int64_t>{0, 64, 128, 192, 256}));
  EXPECT_EQ(split_bounds(256, 3, 16), (std::vector<int64_t>{0, 96, 192, 256}));
  EXPECT_TRUE(split_bounds(256, 5, 16).empty());  // ceil(256/5) = 52 -> 64: only 4 parts
  EXPECT_EQ(split_bounds(512, 2, 128), (std::vector<int64_t>{0, 256, 512}));
  EXPECT_EQ(split_bounds(100, 1, 16), (std::vector<int64_t>{0, 100}));
}

TEST(GpuCheckForensics, NamesAKnownSplitKScheduleExactly) {
  OpData d("bf16_gemm", {{"M", 64}, {"N", 256}, {"K", 1024}});
  const Tensor c = splitk_reversed(*d.in["a"], *d.in["b"], 8);
  const ForensicsResult f = recipe_forensics("bf16_gemm", d.in, c);
  ASSERT_TRUE(f.match) << f.text();
  EXPECT_EQ(*f.match, (GemmVariant{8, Reduce::reversed, Acc::fma_chain, 128, true})) << f.text();
  EXPECT_EQ(f.best_equal, f.elements);
  EXPECT_NE(f.text().find("canonical with K split in 8 (128 each), splits added in reverse order"), std::string::npos) << f.text();
}

TEST(GpuCheckForensics, TheCpuRecipesAreTheUnsplitVariants) {
  {
    OpData d("bf16_gemm", {{"M", 64}, {"N", 256}, {"K", 1024}});
    for (Recipe r : kAllRecipes) {
      const ForensicsResult f = recipe_forensics("bf16_gemm", d.in, run_cpu_op("bf16_gemm", d.in, r)[0].second);
      ASSERT_TRUE(f.match) << recipe_name(r);
      EXPECT_EQ(f.match->splits, 1) << recipe_name(r);
      EXPECT_EQ(f.match->acc, r == Recipe::canonical ? Acc::fma_chain : r == Recipe::hopper ? Acc::hopper_chain : Acc::exact_direct)
          << recipe_name(r) << ": " << f.text();
    }
  }
  OpData d("fp8_gemm", {{"M", 64}, {"N", 256}, {"K", 1024}});
  const ForensicsResult f = recipe_forensics("fp8_gemm", d.in, run_cpu_op("fp8_gemm", d.in, Recipe::hopper)[0].second);
  ASSERT_TRUE(f.match) << f.text();
  EXPECT_EQ(*f.match, (GemmVariant{1, Reduce::in_order, Acc::hopper_chain, 128, true})) << f.text();
}

TEST(GpuCheckForensics, EveryVariantOfTheFamilyIsFoundAsItself) {
  // Each variant's own output must be matched by the first variant in search order that reproduces it,
  // and that variant's output must equal it: the search never names a variant that does not match.
  OpData d("fp8_gemm", {{"M", 8}, {"N", 128}, {"K", 256}});
  for (const GemmVariant& v : gemm_variants("fp8_gemm", 256)) {
    const Tensor c = gemm_variant_output("fp8_gemm", d.in, v);
    const ForensicsResult f = recipe_forensics("fp8_gemm", d.in, c);
    ASSERT_TRUE(f.match) << v.text("fp8_gemm", 256);
    EXPECT_EQ(count_differ(gemm_variant_output("fp8_gemm", d.in, *f.match), c), 0);
  }
}

TEST(GpuCheckForensics, ReportsTheClosestWhenNothingMatches) {
  OpData d("bf16_gemm", {{"M", 4}, {"N", 16}, {"K", 64}});
  Tensor c = run_cpu_op("bf16_gemm", d.in, Recipe::canonical)[0].second;
  c.as<uint16_t>()[5] ^= 0x0100;  // a large change no accumulation order makes
  const ForensicsResult f = recipe_forensics("bf16_gemm", d.in, c);
  EXPECT_FALSE(f.match);
  EXPECT_EQ(f.best_equal, f.elements - 1);
  EXPECT_NE(f.text().find("no variant reproduces every bit"), std::string::npos);
}

// ---- the CLI ----

class GpuCheckCli : public v4::test::TempDirTest {};

TEST_F(GpuCheckCli, TheCpuReferencePassesWithExitZero) {
  const auto r = v4::test::run_cli("gpu-check --op bf16_gemm --candidate cpu:canonical --batch-sizes 1,2,64,65 --repeats 3 --json " +
                                       path("r.json") + " --html " + path("r.html"),
                                   dir_);
  EXPECT_EQ(r.status, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("PASS"), std::string::npos);
  const std::string json = v4::test::slurp(path("r.json"));
  EXPECT_NE(json.find("\"pass\":true"), std::string::npos);
  EXPECT_NE(json.find("\"first_break\":null"), std::string::npos);
  EXPECT_NE(v4::test::slurp(path("r.html")).find("<table>"), std::string::npos);
}

TEST_F(GpuCheckCli, TheSplitKPluginFailsWithExitOneNamingTheFirstBreak) {
  const auto r = v4::test::run_cli(std::string("gpu-check --op bf16_gemm --candidate plugin:") + V4ORACLE_SPLITK_PLUGIN +
                                       " --shape M=64 N=256 K=1024 --probe batch --batch-sizes 1,63,64 --json " + path("r.json"),
                                   dir_);
  EXPECT_EQ(r.status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("FIRST BREAK: kernel splitk_bf16_gemm (4 K splits below M=64), batch 64, first position"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("with K split in 4 (256 each), splits added in order"), std::string::npos) << r.out;
  EXPECT_NE(v4::test::slurp(path("r.json")).find("\"first_break\":{\"batch\":64,\"position\":0"), std::string::npos);
}

TEST_F(GpuCheckCli, BadCandidatesAreExitTwoInOneLine) {
  for (const std::string& spec : {std::string("plugin:") + V4ORACLE_BAD_PLUGIN_DIR + "/libtest_bad_plugin_1.so",
                                  std::string("plugin:") + path("missing.so"), std::string("builtin")}) {
    const auto r = v4::test::run_cli("gpu-check --op bf16_gemm --candidate " + spec, dir_);
    EXPECT_EQ(r.status, 2) << spec << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(r.out.empty());
  }
  const auto unknown = v4::test::run_cli("gpu-check --op no_such_op --candidate cpu", dir_);
  EXPECT_EQ(unknown.status, 2);
  const auto cannot = v4::test::run_cli(std::string("gpu-check --op f32_gemm --candidate plugin:") + V4ORACLE_SPLITK_PLUGIN, dir_);
  EXPECT_EQ(cannot.status, 2);
  EXPECT_NE(cannot.err.find("does not compute f32_gemm"), std::string::npos) << cannot.err;
}

}  // namespace
}  // namespace v4::harness
