// gpu-check's CPU side (compare/harness/, docs/gpu-check.md): the plug-in loader, the batch-invariance and
// determinism probes, recipe forensics, and the CLI. Expectations come from the example plug-in's
// documented rule (examples/plugins/splitk_gemm_cpu.cpp), recomputed here with the test's own loops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "compare/harness/candidate.h"
#include "compare/harness/device_memory.h"
#include "compare/harness/forensics.h"
#include "compare/harness/gpu_check.h"
#include "compare/harness/op_exec.h"
#include "compare/harness/probes.h"
#include "golden/ops.h"
#include "reference/formats.h"
#include "support/cli_run.h"
#include "support/op_inputs.h"
#include "support/temp_dir.h"

namespace v4::harness {
namespace {

using v4::test::run_cli;
using OpData = v4::test::SeededOpInputs;

const std::string kSplitK = V4ORACLE_SPLITK_PLUGIN;
std::string bad_plugin(int kind) { return std::string(V4ORACLE_BAD_PLUGIN_DIR) + "/libtest_bad_plugin_" + std::to_string(kind) + ".so"; }

std::string error_of(const std::string& spec) {
  try {
    make_candidate(spec);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}


// bf16 C = A·Bᵀ with K in `splits` parts of ceil(K/splits), each an fp32 fma chain from +0, the parts
// added in order -- the example plug-in's rule, written again here.
std::vector<uint16_t> splitk_bf16(const Tensor& a, const Tensor& b, int64_t splits) {
  const int64_t M = a.shape[0], N = b.shape[0], K = a.shape[1], L = (K + splits - 1) / splits;
  std::vector<uint16_t> c(size_t(M * N));
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      std::vector<float> parts;
      for (int64_t s = 0; s < splits; ++s) {
        float p = 0.0f;
        for (int64_t k = s * L; k < std::min(K, (s + 1) * L); ++k)
          p = std::fma(bf16_decode(a.as<uint16_t>()[m * K + k]), bf16_decode(b.as<uint16_t>()[n * K + k]), p);
        parts.push_back(p);
      }
      float sum = parts[0];
      for (size_t s = 1; s < parts.size(); ++s) sum = sum + parts[s];
      c[size_t(m * N + n)] = bf16_encode(sum);
    }
  return c;
}

// ---- plug-in loader ----

TEST(GpuCheckPlugin, LoadsTheExampleAndRunsItsDocumentedRule) {
  auto cand = make_candidate("plugin:" + kSplitK);
  EXPECT_NE(cand->name().find("splitk_bf16_gemm"), std::string::npos);
  EXPECT_FALSE(cand->kernel("bf16_gemm", Recipe::canonical).empty());
  EXPECT_TRUE(cand->kernel("f32_gemm", Recipe::canonical).empty());
  EXPECT_EQ(cand->device(), "CPU");
  for (int64_t M : {3, 63, 64}) {  // 4 splits below M = 64, one from there
    OpData d("bf16_gemm", {{"M", M}, {"N", 256}, {"K", 1000}});
    const Outputs want = run_cpu_op("bf16_gemm", d.in, Recipe::canonical);
    const Outputs got = cand->run("bf16_gemm", d.in, want, Recipe::canonical, RunOptions{});
    const auto expect = splitk_bf16(*d.in["a"], *d.in["b"], M < 64 ? 4 : 1);
    if (M >= 63) {
      ASSERT_NE(expect, splitk_bf16(*d.in["a"], *d.in["b"], M < 64 ? 1 : 4)) << "M=" << M << " must tell the schedules apart";
    }
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(std::vector<uint16_t>(got[0].second.as<uint16_t>(), got[0].second.as<uint16_t>() + expect.size()), expect) << "M=" << M;
  }
}

TEST(GpuCheckPlugin, LoadErrorsNameTheLibraryAndTheProblem) {
  EXPECT_NE(error_of("plugin:/nonexistent/libx.so").find("no such file"), std::string::npos);
  EXPECT_NE(error_of("plugin:" + bad_plugin(1)).find("ABI version 99"), std::string::npos);
  EXPECT_NE(error_of("plugin:" + bad_plugin(2)).find("symbol v4o_run not found"), std::string::npos);
  EXPECT_NE(error_of("plugin:" + bad_plugin(3)).find("-DV4ORACLE_CUDA=ON"), std::string::npos);
  EXPECT_NE(error_of("plugin:" V4ORACLE_SOURCE_DIR "/README.md").find("cannot load"), std::string::npos);
  EXPECT_NE(error_of("builtin").find("-DV4ORACLE_CUDA=ON"), std::string::npos);
  EXPECT_NE(error_of("cpu:fast").find("unknown recipe"), std::string::npos);
  EXPECT_NE(error_of("mystery").find("known: cpu, plugin"), std::string::npos);
  EXPECT_THROW(register_candidate("cpu", "again", nullptr), std::logic_error);
}

TEST(GpuCheckPlugin, AFailingRunIsBadInputWithThePluginsReason) {
  OpData d("bf16_gemm", {{"M", 2}, {"N", 2}, {"K", 16}});
  const Outputs want = run_cpu_op("bf16_gemm", d.in, Recipe::canonical);
  auto cand = make_candidate("plugin:" + bad_plugin(4));
  try {
    cand->run("bf16_gemm", d.in, want, Recipe::canonical, RunOptions{});
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("failed: deliberate failure"), std::string::npos) << e.what();
  }
}

// Device memory backed by host memory: what the loader asks of compare/gpu/'s CUDA hook.
class HostBackedDevice final : public DeviceMemory {
 public:
  void* alloc(size_t n) override {
    ++allocs;
    return ::operator new(n);
  }
  void free(void* p) noexcept override {
    ++frees;
    ::operator delete(p);
  }
  void upload(void* d, const void* s, size_t n, int) override { std::memcpy(d, s, n), uploaded += n; }
  void download(void* d, const void* s, size_t n, int) override { std::memcpy(d, s, n), downloaded += n; }
  void* stream(int k) override { return reinterpret_cast<void*>(uintptr_t(0x1000 + k)); }
  void sync(int k) override { ++syncs[k]; }
  int streams() const override { return 2; }
  std::string device() const override { return "host-backed test device"; }
  int allocs = 0, frees = 0, syncs[2] = {0, 0};
  size_t uploaded = 0, downloaded = 0;
};

TEST(GpuCheckPlugin, ADevicePluginGetsDeviceBuffersAndTheStreamItRunsOn) {
  HostBackedDevice dev;
  set_device_memory(&dev);
  OpData d("bf16_gemm", {{"M", 3}, {"N", 5}, {"K", 16}});
  const Outputs want = run_cpu_op("bf16_gemm", d.in, Recipe::canonical);
  {
    auto cand = make_candidate("plugin:" + bad_plugin(5));
    EXPECT_EQ(cand->streams(), 2);
    EXPECT_EQ(cand->device(), "host-backed test device");
    for (int k : {0, 1}) {
      const Outputs got = cand->run("bf16_gemm", d.in, want, Recipe::canonical, RunOptions{k});
      ASSERT_EQ(got[0].second.numel(), 15);
      for (int64_t i = 0; i < 15; ++i) EXPECT_EQ(got[0].second.as<uint16_t>()[i], 0x1000 + k);
      EXPECT_GE(dev.syncs[k], 1);
    }
  }
  set_device_memory(nullptr);
  EXPECT_EQ(dev.allocs, 2 * 3);  // a, b and c, twice
  EXPECT_EQ(dev.frees, dev.allocs);
  EXPECT_EQ(dev.uploaded, 2 * (3 * 16 + 5 * 16) * sizeof(uint16_t));
  EXPECT_EQ(dev.downloaded, 2 * 15 * sizeof(uint16_t));
}

// ---- the batch probe ----

GpuCheckOptions probe_only(const std::string& op, golden::ShapeParams shape, std::vector<int64_t> sizes) {
  GpuCheckOptions o;
  o.op = op, o.shape = std::move(shape), o.batch_sizes = std::move(sizes), o.probe_determinism = false;
  return o;
}

TEST(GpuCheckBatch, TheCpuReferenceIsInvariantForEveryBatchedOpKind) {
  for (const char* op : {"bf16_gemm", "fp8_gemm", "act_quant", "fp4_e2m1", "exp"}) {
    auto cand = make_candidate("cpu");
    const GpuCheckResult r = gpu_check(probe_only(op, {}, {1, 2, 7, 65}), *cand);
    EXPECT_TRUE(r.equal()) << op;
    ASSERT_TRUE(r.batch.ran()) << op << ": " << r.batch.skipped;
    ASSERT_EQ(r.batch.cells.size(), 12u) << op;
    for (const BatchCell& c : r.batch.cells) EXPECT_EQ(c.differ, 0) << op << " batch " << c.batch << " at " << c.position;
    EXPECT_TRUE(r.pass()) << op;
  }
}

TEST(GpuCheckBatch, AnOpWithoutABatchDimensionIsSkippedWithAReason) {
  auto cand = make_candidate("cpu");
  const GpuCheckResult r = gpu_check(probe_only("sinkhorn", {}, {1, 2}), *cand);
  EXPECT_FALSE(r.batch.ran());
  EXPECT_NE(r.batch.skipped.find("no batch dimension"), std::string::npos);
  EXPECT_TRUE(r.pass());
}

TEST(GpuCheckBatch, TheSplitKPluginBreaksWhereItsSplitCountChanges) {
  const golden::ShapeParams shape{{"M", 64}, {"N", 256}, {"K", 1024}};
  OpData d("bf16_gemm", shape);
  // The plug-in's rule: rows run alone (M = 1 < 64) use 4 splits; a batch of 64 or more rows uses 1.
  const auto alone = splitk_bf16(*d.in["a"], *d.in["b"], 4), batched = splitk_bf16(*d.in["a"], *d.in["b"], 1);
  int64_t differ = 0, first = -1;
  for (size_t i = 0; i < alone.size(); ++i)
    if (alone[i] != batched[i]) differ += 1, first = first < 0 ? int64_t(i) : first;
  ASSERT_GT(differ, 0) << "this shape must separate the two schedules";

  auto cand = make_candidate("plugin:" + kSplitK);
  const std::vector<int64_t> sizes{1, 2, 63, 64, 65, 130};
  const GpuCheckResult r = gpu_check(probe_only("bf16_gemm", shape, sizes), *cand);
  EXPECT_TRUE(r.equal());  // M = 64: the golden's shape runs unsplit = canonical
  ASSERT_TRUE(r.batch.ran());
  EXPECT_EQ(r.batch.probe_rows, 64);
  ASSERT_EQ(r.batch.cells.size(), 3 * sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i)
    for (size_t k = 0; k < 3; ++k) {
      const BatchCell& c = r.batch.cells[3 * i + k];
      EXPECT_EQ(c.differ, sizes[i] < 64 ? 0 : differ) << "batch " << sizes[i] << " slot " << k;
      EXPECT_EQ(c.rows, std::min<int64_t>(sizes[i], 64));
    }
  ASSERT_EQ(r.batch.first_break, 3 * 3);  // batch 64, first position
  const BatchCell& c = r.batch.cells[size_t(r.batch.first_break)];
  EXPECT_EQ(c.batch, 64);
  EXPECT_EQ(c.position, 0);
  EXPECT_EQ(c.first_output, "c");
  EXPECT_EQ(c.first_row, first / 256);
  EXPECT_EQ(c.first_col, first % 256);
  EXPECT_EQ(c.matches, std::vector<std::string>{"canonical"});
  // Forensics names both schedules.
  ASSERT_TRUE(r.batch.baseline_forensics && r.batch.baseline_forensics->match);
  EXPECT_EQ(*r.batch.baseline_forensics->match, (GemmVariant{4, GemmVariant::Reduce::in_order, GemmVariant::Acc::fma_chain, 128, true}));
  ASSERT_TRUE(r.batch.break_forensics && r.batch.break_forensics->match);
  EXPECT_EQ(r.batch.break_forensics->match->splits, 1);
  EXPECT_EQ(r.batch.break_forensics->match->acc, GemmVariant::Acc::fma_chain);
  EXPECT_FALSE(r.pass());
}

// ---- the determinism probe ----

// golden's CPU op, with one bit of output element `flip_at` flipped on launch `bad_launch` (1-based), or
// on every launch on stream `bad_stream`.
class FlakyCandidate final : public Candidate {
 public:
  FlakyCandidate(int bad_launch, int bad_stream, int streams) : bad_launch_(bad_launch), bad_stream_(bad_stream), streams_(streams) {}
  std::string name() const override { return "flaky"; }
  std::string kernel(const std::string&, Recipe) const override { return "flaky_kernel"; }
  int streams() const override { return streams_; }
  Outputs run(const std::string& op, const Inputs& in, const Outputs&, Recipe r, const RunOptions& opt) override {
    Outputs out = run_cpu_op(op, in, r);
    if (++launches_ == bad_launch_ || opt.stream == bad_stream_) out[0].second.data[2 * kFlipAt] ^= 1;  // bf16: element kFlipAt
    return out;
  }
  static constexpr int64_t kFlipAt = 37;

 private:
  int bad_launch_, bad_stream_, streams_, launches_ = 0;
};

TEST(GpuCheckDeterminism, CatchesABitFlippedOnTheThirdLaunch) {
  OpData d("bf16_gemm", {});
  const Outputs expected = run_cpu_op("bf16_gemm", d.in, Recipe::canonical);
  FlakyCandidate flaky(3, -1, 1);
  const DeterminismProbe p = probe_determinism(flaky, "bf16_gemm", d.in, expected, Recipe::canonical, 5);
  ASSERT_EQ(p.launches.size(), 4u);
  ASSERT_FALSE(p.deterministic());
  const Launch& l = p.launches[size_t(p.first_diff)];
  EXPECT_EQ(l.run, 3);
  EXPECT_EQ(l.stream, 0);
  EXPECT_EQ(l.differ, 1);
  EXPECT_EQ(l.first_output, "c");
  EXPECT_EQ(l.first_index, FlakyCandidate::kFlipAt);
  {  // both bit patterns: the code of launch 1, then that code with its lowest bit flipped
    const uint16_t code = expected[0].second.as<uint16_t>()[FlakyCandidate::kFlipAt];
    char want[32];
    std::snprintf(want, sizeof want, "0x%04x (", unsigned(code));
    EXPECT_EQ(l.first_bits.rfind(want, 0), 0u) << l.first_bits;
    std::snprintf(want, sizeof want, " vs 0x%04x (", unsigned(code ^ 1));
    EXPECT_NE(l.first_bits.find(want), std::string::npos) << l.first_bits;
  }
  for (const Launch& other : p.launches) EXPECT_EQ(other.differ, other.run == 3 ? 1 : 0);

  FlakyCandidate steady(-1, -1, 3);
  EXPECT_TRUE(probe_determinism(steady, "bf16_gemm", d.in, expected, Recipe::canonical, 5).deterministic());
}

TEST(GpuCheckDeterminism, CatchesAnotherStreamDisagreeing) {
  OpData d("bf16_gemm", {});
  const Outputs expected = run_cpu_op("bf16_gemm", d.in, Recipe::canonical);
  FlakyCandidate on_stream2(-1, 2, 3);
  const DeterminismProbe p = probe_determinism(on_stream2, "bf16_gemm", d.in, expected, Recipe::canonical, 4);
  ASSERT_EQ(p.launches.size(), 5u);  // 3 more on stream 0, one on each of streams 1 and 2
  ASSERT_FALSE(p.deterministic());
  EXPECT_EQ(p.launches[size_t(p.first_diff)].stream, 2);
  EXPECT_EQ(p.launches[size_t(p.first_diff)].run, 6);
}

}  // namespace
}  // namespace v4::harness
