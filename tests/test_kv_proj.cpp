// kv_proj (the window KV path of v4-model.md §6.2): the composition against its separately tested parts,
// the FP8 simulation checked against its definition (each 64-block on the e4m3 grid of its ue8m0 scale,
// the scale the ceiling power of two of amax·fp32(1/448), within half an e4m3 ulp), RoPE dims untouched,
// the kv_fp8_sim switch (off = identity, the earlier release) and idempotence.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/formats.h"
#include "reference/kv_proj.h"
#include "reference/rmsnorm.h"
#include "tests/support/attention_fixtures.h"

using namespace v4;
namespace fx = v4::fixtures;

namespace {
fx::Table table(int64_t P) { return fx::rope_tab(kRopeCompressed, P); }
}  // namespace

TEST(KvProj, ComposesItsPartsAndSimulatesFp8OnTheNonRopeDims) {
  const int64_t T = 9, d = 256, c = 192, P = 40;  // 128 FP8 dims (2 blocks of 64), 64 RoPE dims
  const auto x = fx::bf16_normal(T * d, 11);
  const auto w = fx::fp8_normal(c, d, 12, 0.06f);
  const auto kn = fx::f32_bf16_normal(c, 13, 0.3f, 1.0f);
  const auto tab = table(P);
  std::vector<int32_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = int32_t(4 * t);
  std::vector<uint16_t> on(T * c), off(T * c), norm(T * c), raw(T * c);
  kv_proj(x.data(), T, w.view(), kn.data(), pos.data(), tab.view(), Recipe::canonical, true, true, on.data());
  kv_proj(x.data(), T, w.view(), kn.data(), pos.data(), tab.view(), Recipe::canonical, true, false, off.data());
  linear_fp8(x.data(), T, w.view(), Recipe::canonical, true, raw.data());
  rmsnorm(raw.data(), kn.data(), T, c, kRmsNormEps, Recipe::canonical, norm.data());
  auto roped = norm;
  rope_apply(roped.data(), T, c, pos.data(), 1, tab.view(), false);
  EXPECT_EQ(off, roped) << "kv_fp8_sim off (the earlier release) is the identity on the FP8 dims";
  int moved = 0;
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t i = 128; i < c; ++i) ASSERT_EQ(on[t * c + i], roped[t * c + i]) << "RoPE dims stay bf16";
    for (int64_t b = 0; b < 2; ++b) {
      // Derived from §2.3: the block's scale is the smallest power of two >= amax·fp32(1/448) of the
      // bf16 input, and every simulated value is an e4m3 value times that scale.
      float amax = 1e-4f;
      for (int64_t i = 64 * b; i < 64 * b + 64; ++i) amax = std::max(amax, std::fabs(bf16_decode(norm[t * c + i])));
      const double v = double(amax * (1.0f / 448.0f));
      const double s = std::exp2(std::ceil(std::log2(v)));
      for (int64_t i = 64 * b; i < 64 * b + 64; ++i) {
        const double y = bf16_decode(on[t * c + i]);
        const double code_val = y / s;
        ASSERT_EQ(double(fp8_e4m3_decode(fp8_e4m3_encode(float(code_val), Sat::satfinite))), code_val)
            << "row " << t << " dim " << i << ": not on the e4m3 grid of its block scale";
        // half an e4m3 ulp: <= 2^-4 of the value (3 mantissa bits), or half the subnormal step 2^-9·s
        ASSERT_LE(std::fabs(y - bf16_decode(norm[t * c + i])), std::fabs(bf16_decode(norm[t * c + i])) * 0x1p-4 + s * 0x1p-10)
            << "row " << t << " dim " << i;
        moved += on[t * c + i] != norm[t * c + i];
      }
    }
  }
  EXPECT_GT(moved, 0) << "the real round trip changes values";
  // Idempotent: simulating again changes nothing.
  auto again = on;
  kv_fp8_sim(again.data(), T, c, 64);
  EXPECT_EQ(again, on);
}

