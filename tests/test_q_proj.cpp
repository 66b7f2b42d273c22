// q_proj (the query path of v4-model.md §6.1). The per-head RMS in bf16 arithmetic is checked against a
// hand-derived case and a double-precision bound; the composition against its separately tested parts in
// the spec's order and a property derived from the math (unit RMS per head); the quant switch,
// determinism across threads and batch invariance (q and kv of one token alone equal its batch row).
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "reference/formats.h"
#include "reference/kv_proj.h"
#include "reference/q_proj.h"
#include "reference/rmsnorm.h"
#include "tests/support/attention_fixtures.h"

using namespace v4;
namespace fx = v4::fixtures;

namespace {
fx::Table table(int64_t P) { return fx::rope_tab(kRopeCompressed, P); }
}  // namespace

TEST(QHeadRms, BF16ArithmeticHandCase) {
  // q = 2.21875 everywhere: q² = 4.9228516 -> bf16 4.9375 = m = bf16(m + 1e-6); rsqrt(4.9375) = 0.45004
  // -> bf16 0.44921875; q·s = 0.99670410 -> bf16 0.99609375. In fp32 arithmetic the same head gives
  // bf16(2.21875 · rsqrt(4.9228516)) = bf16(1.0000000) = 1.
  std::vector<uint16_t> q(512, bf16_encode(2.21875f));
  q_head_rms_bf16(q.data(), 1, 512, kRmsNormEps, Recipe::canonical);
  for (uint16_t v : q) ASSERT_EQ(bf16_decode(v), 0.99609375f);
  // A head whose squares round in bf16: q = 1.0078125 (1 + 2^-7): q² = 1.0157 -> bf16 1.015625; the
  // mean is 1.015625, rsqrt(1.015625) = 0.99227786 -> bf16 0.9921875; q·s = 0.99993896 -> bf16 1.0.
  std::vector<uint16_t> q2(64, bf16_encode(1.0078125f));
  q_head_rms_bf16(q2.data(), 1, 64, kRmsNormEps, Recipe::canonical);
  EXPECT_EQ(bf16_decode(q2[0]), 1.0f);
}

TEST(QHeadRms, WithinTheBf16BoundOfTheDoubleNorm) {
  const int64_t rows = 40, c = 512;
  auto q = fx::bf16_normal(rows * c, 5, 3.0f);
  const auto q0 = q;
  q_head_rms_bf16(q.data(), rows, c, kRmsNormEps, Recipe::canonical);
  for (int64_t t = 0; t < rows; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < c; ++i) ss += double(bf16_decode(q0[t * c + i])) * bf16_decode(q0[t * c + i]);
    const double s = 1.0 / std::sqrt(ss / c + 1e-6);
    for (int64_t i = 0; i < c; ++i) {
      // Before the final cast the value carries: bf16 squares (each <= 2^-8 relative, so the mean too),
      // the mean's fp32 sum (c·2^-24) and bf16 cast (2^-8), the eps add's bf16 cast (2^-8), all halved
      // by rsqrt: (3·2^-8 + c·2^-24)/2; the bf16 rsqrt (2^-8); the fp32 product (2^-24). 1.05 covers
      // second-order terms.
      const double rel = 1.05 * ((3 * 0x1p-8 + c * 0x1p-24) / 2 + 0x1p-8 + 0x1p-24);
      const double ref = bf16_decode(q0[t * c + i]) * s;
      const float got = bf16_decode(q[t * c + i]);
      ASSERT_TRUE(got >= bf16_round(float(ref - std::fabs(ref) * rel)) &&
                  got <= bf16_round(float(ref + std::fabs(ref) * rel)))
          << "row " << t << " dim " << i << " got " << got << " ref " << ref;
    }
  }
}

TEST(QProj, ComposesItsPartsInTheSpecOrder) {
  const int64_t T = 11, d = 256, dc = 128, H = 3, c = 128, P = 64;
  const auto x = fx::bf16_normal(T * d, 1);
  const auto wa = fx::fp8_normal(dc, d, 2, 0.06f), wb = fx::fp8_normal(H * c, dc, 3, 0.09f);
  const auto qn = fx::f32_bf16_normal(dc, 4, 0.1f, 1.0f);
  const auto tab = table(P);
  std::vector<int32_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = int32_t(3 * t + 1);
  for (bool quant : {true, false}) {
    std::vector<uint16_t> qr(T * dc), q(T * H * c);
    q_proj(x.data(), T, wa.view(), qn.data(), wb.view(), H, pos.data(), tab.view(), Recipe::canonical, quant, qr.data(),
           q.data());
    // The spec's sequence from the separately tested parts.
    std::vector<uint16_t> a(T * dc), qr2(T * dc), q2(T * H * c);
    linear_fp8(x.data(), T, wa.view(), Recipe::canonical, quant, a.data());
    rmsnorm(a.data(), qn.data(), T, dc, kRmsNormEps, Recipe::canonical, qr2.data());
    linear_fp8(qr2.data(), T, wb.view(), Recipe::canonical, quant, q2.data());
    q_head_rms_bf16(q2.data(), T * H, c, kRmsNormEps, Recipe::canonical);
    rope_apply(q2.data(), T * H, c, pos.data(), H, tab.view(), false);
    EXPECT_EQ(qr, qr2);
    EXPECT_EQ(q, q2);
    // Property: every head has unit RMS (RoPE keeps pair norms) within a few bf16 roundings.
    for (int64_t r = 0; r < T * H; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < c; ++i) ss += double(bf16_decode(q[r * c + i])) * bf16_decode(q[r * c + i]);
      EXPECT_NEAR(std::sqrt(ss / c), 1.0, 4 * 0x1p-8) << "head row " << r;
    }
  }
}

TEST(QKvProj, DeterministicAcrossThreadsAndBatchInvariant) {
  const int64_t T = 13, d = 256, dc = 128, H = 2, c = 128, P = 64;
  const auto x = fx::bf16_normal(T * d, 21);
  const auto wa = fx::fp8_normal(dc, d, 22, 0.06f), wb = fx::fp8_normal(H * c, dc, 23, 0.09f);
  const auto wkv = fx::fp8_normal(c, d, 24, 0.06f);
  const auto qn = fx::f32_bf16_normal(dc, 25, 0.1f, 1.0f), kn = fx::f32_bf16_normal(c, 26, 0.1f, 1.0f);
  const auto tab = table(P);
  std::vector<int32_t> pos(T);
  for (int64_t t = 0; t < T; ++t) pos[t] = int32_t(t);
  auto run = [&](int64_t t0, int64_t n, std::vector<uint16_t>& q, std::vector<uint16_t>& kv) {
    std::vector<uint16_t> qr(n * dc);
    q.assign(n * H * c, 0);
    kv.assign(n * c, 0);
    q_proj(x.data() + t0 * d, n, wa.view(), qn.data(), wb.view(), H, pos.data() + t0, tab.view(), Recipe::canonical,
           true, qr.data(), q.data());
    kv_proj(x.data() + t0 * d, n, wkv.view(), kn.data(), pos.data() + t0, tab.view(), Recipe::canonical, true, true,
            kv.data());
  };
  std::vector<uint16_t> q1, kv1, q3, kv3, qs, kvs;
  omp_set_num_threads(1);
  run(0, T, q1, kv1);
  omp_set_num_threads(3);
  run(0, T, q3, kv3);
  EXPECT_EQ(q1, q3);
  EXPECT_EQ(kv1, kv3);
  run(5, 1, qs, kvs);  // one token alone (a decode step) equals its row in the batch
  EXPECT_TRUE(std::equal(qs.begin(), qs.end(), q1.begin() + 5 * H * c));
  EXPECT_TRUE(std::equal(kvs.begin(), kvs.end(), kv1.begin() + 5 * c));
  omp_set_num_threads(omp_get_num_procs());
}
