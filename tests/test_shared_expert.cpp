// shared_expert against double precision on the dequantized FP8 weights, stage by stage (as
// test_expert_ffn.cpp), and the release switch: with shared_expert_clamp on, gate values above 10 are
// clamped and up values clamped to ±10; off (the earlier release), neither is.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/shared_expert.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

using Shared = ExpertStore;

Shared make_shared(int64_t T, int64_t d, int64_t I) { return make_expert_store({99, 4, -1}, true, T, d, I); }

// FP8 canonical: each 128-block partial rounded once to fp32 (u·|terms|), each promotion fma once
// (u·|acc|): |acc - exact| <= u·(1 + K/128)·sum|terms|.
double fp8_bound(int64_t K, double mag) { return 1.001 * kU32 * (1.0 + double(K) / 128) * mag; }

}  // namespace

TEST(SharedExpert, Fp8StagesMatchDoublePrecisionAndTheClampSwitch) {
  const Shared e = make_shared(6, 256, 256);
  // Activations large enough (sd 24) that some gate and up values leave [-10, 10].
  const auto x = normal_bf16(size_t(e.T * e.d), 24.0f, 5);
  for (bool clamp : {true, false}) {
    std::vector<uint16_t> g(e.T * e.I), u(e.T * e.I), h(e.T * e.I), y(e.T * e.d);
    ExpertTrace tr{g.data(), u.data(), h.data()};
    shared_expert_fp8(x.data(), e.T, e.d, e.I, e.fp8(), clamp, Recipe::canonical, y.data(), &tr);
    std::vector<double> c, mag;
    const auto xq = act_quant_dequantized(x, e.T, e.d);
    dot_rows(xq, e.d1, e.T, e.I, e.d, c, mag);
    for (int64_t i = 0; i < e.T * e.I; ++i) ASSERT_TRUE(bf16_within(g[i], c[i], fp8_bound(e.d, mag[i]))) << i;
    dot_rows(xq, e.d3, e.T, e.I, e.d, c, mag);
    for (int64_t i = 0; i < e.T * e.I; ++i) ASSERT_TRUE(bf16_within(u[i], c[i], fp8_bound(e.d, mag[i]))) << i;
    int beyond = 0;
    for (int64_t i = 0; i < e.T * e.I; ++i) {
      beyond += bf(g[i]) > 10 || std::abs(bf(u[i])) > 10;
      const double hh = swiglu_exact(bf(g[i]), bf(u[i]), 1.0, clamp ? 10.0 : 0.0);
      ASSERT_TRUE(bf16_within(h[i], hh, 2.01 * kU32 * std::abs(hh))) << "clamp " << clamp << " h " << i;
    }
    EXPECT_GT(beyond, 20) << "the case must exercise the clamp";
    dot_rows(act_quant_dequantized(h, e.T, e.I), e.d2, e.T, e.d, e.I, c, mag);
    for (int64_t i = 0; i < e.T * e.d; ++i) ASSERT_TRUE(bf16_within(y[i], c[i], fp8_bound(e.I, mag[i]))) << i;
  }
}

TEST(SharedExpert, Bf16PathIsTheUnweightedExpertOnDequantizedWeights) {
  const Shared e = make_shared(4, 128, 256);
  const auto x = normal_bf16(size_t(e.T * e.d), 1.0f, 6);
  std::vector<uint16_t> y(e.T * e.d), want(e.T * e.d);
  const ExpertBf16Weights w = e.bf16();
  shared_expert_bf16(x.data(), e.T, e.d, e.I, w, true, Recipe::canonical, y.data());
  expert_ffn_bf16(x.data(), nullptr, e.T, e.d, e.I, w, kSwigluLimit, Recipe::canonical, want.data());
  EXPECT_TRUE(same_bits(y, want, "bf16 shared expert"));
}
