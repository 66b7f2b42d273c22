// mtp (v4-model.md §12) against independent derivations: with identity projections (quantization off) and
// ±c inputs the input stage Z = bf16(enorm ± hnorm) is exact integer arithmetic; with eps = 0 the block
// sees Hm and the embedding only through their RMSNorms (scaling either by 4 changes no bit); decode steps
// equal the matching prefill rows bitwise; 1 and 2 threads agree. Tiny shapes: d = c = 128, I = 128, E = 8.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "reference/mtp.h"
#include "tests/support/attention_layer_fixture.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;
namespace fx = v4::fixtures;

namespace {

constexpr int64_t kD = 128, kI = 128, kE = 8, kV = 40, kVemb = 30, kWin = 4;

// Every weight of an MTP block, holding its storage.
struct Model {
  MtpConfig cfg;
  fx::LayerWeights attn;
  fx::Fp8W e_proj, h_proj, sw1, sw3, sw2;
  std::vector<uint16_t> embed, gate_w, head;
  std::vector<float> enorm, hnorm, attn_norm, ffn_norm, gate_bias, hca_fn, hca_base, hca_scale, hcf_fn, hcf_base,
      hcf_scale, hh_fn, hh_base, hh_scale, norm;

  MtpWeights view() const {
    MtpWeights w;
    w.embed = embed.data();
    w.embed_rows = kVemb;
    w.enorm = enorm.data();
    w.hnorm = hnorm.data();
    w.e_proj = e_proj.view();
    w.h_proj = h_proj.view();
    w.hc_attn = {hca_fn.data(), hca_base.data(), hca_scale.data()};
    w.hc_ffn = {hcf_fn.data(), hcf_base.data(), hcf_scale.data()};
    w.attn_norm = attn_norm.data();
    w.ffn_norm = ffn_norm.data();
    w.attn = attn.view();
    w.gate_w = gate_w.data();
    w.gate_bias = gate_bias.data();
    w.experts = GeneratedExperts(5, 43, kD, kI);
    w.shared = {sw1.w.data(), sw1.s.data(), sw3.w.data(), sw3.s.data(), sw2.w.data(), sw2.s.data()};
    w.head = {hh_fn.data(), hh_base.data(), hh_scale.data(), norm.data(), head.data(), kV};
    return w;
  }
};

Model make_model(uint32_t seed) {
  Model m;
  m.cfg.attn = AttentionConfig{kD, 2, 128, 128, 1, 128, kWin, 0, 4, 128, 8};
  m.cfg.moe.d = kD;
  m.cfg.moe.I = kI;
  m.cfg.moe.E = kE;
  m.cfg.moe.k = 2;
  m.attn = fx::make_layer(m.cfg.attn, seed);
  const float sd = 1.0f / std::sqrt(float(kD));
  m.e_proj = fx::fp8_normal(kD, kD, seed + 20, sd);
  m.h_proj = fx::fp8_normal(kD, kD, seed + 21, sd);
  m.sw1 = fx::fp8_normal(kI, kD, seed + 22, sd);
  m.sw3 = fx::fp8_normal(kI, kD, seed + 23, sd);
  m.sw2 = fx::fp8_normal(kD, kI, seed + 24, 1.0f / std::sqrt(float(kI)));
  m.embed = fx::bf16_normal(size_t(kVemb * kD), seed + 25, 0.07f);
  m.gate_w = fx::bf16_normal(size_t(kE * kD), seed + 26, sd);
  m.head = fx::bf16_normal(size_t(kV * kD), seed + 27, sd);
  uint32_t k = 28;
  for (auto* v : {&m.enorm, &m.hnorm, &m.attn_norm, &m.ffn_norm, &m.norm})
    *v = fx::f32_bf16_normal(size_t(kD), seed + k++, 0.1f, 1.0f);
  m.gate_bias = fx::f32_bf16_normal(size_t(kE), seed + 40, 0.1f);
  const int n = kHcMult;
  const int64_t W = n * kD, mw = (2 + n) * n;
  const float sfn = 1.0f / std::sqrt(float(W));
  m.hca_fn = normal_f32(size_t(mw * W), sfn, seed + 41);
  m.hca_base = normal_f32(size_t(mw), 1.0f, seed + 42);
  m.hca_scale = {0.5f, 0.5f, 0.5f};
  m.hcf_fn = normal_f32(size_t(mw * W), sfn, seed + 43);
  m.hcf_base = normal_f32(size_t(mw), 1.0f, seed + 44);
  m.hcf_scale = {0.5f, 0.5f, 0.5f};
  m.hh_fn = normal_f32(size_t(n * W), sfn, seed + 45);
  m.hh_base = normal_f32(size_t(n), 1.0f, seed + 46);
  m.hh_scale = {0.4f};
  return m;
}

struct Inputs {
  std::vector<uint16_t> Hm;
  std::vector<int32_t> ids;
};
Inputs make_inputs(int64_t T, uint32_t seed) {
  Inputs in;
  in.Hm = fx::bf16_normal(size_t(T * kHcMult * kD), seed, 1.0f);
  std::mt19937 g(seed + 1);
  for (int64_t t = 0; t < T; ++t) in.ids.push_back(int32_t(g() % kVemb));
  return in;
}

struct Out {
  std::vector<float> logits;
  MtpTrace trace;
};
Out prefill(const Model& m, const Inputs& in, int64_t S, Recipe rc = Recipe::canonical) {
  const auto tab = fx::rope_tab(kRopeSwa, S);
  AttentionState st = attention_state_init(m.cfg.attn, S);
  Out o;
  o.logits.assign(size_t(S * kV), 0.0f);
  mtp_prefill(m.cfg, m.view(), in.Hm.data(), in.ids.data(), S, tab.view(), rc, st, o.logits.data(), &o.trace);
  return o;
}

}  // namespace

// Quantization off and e_proj = h_proj = the identity (FP8 code 1.0, scale 1): a bf16 GEMM against the
// identity returns its input exactly (one nonzero product per output). Embedding rows and Hm streams of
// ±c (c a power of two, 1/4 <= c <= 4) with integer norm weights make enorm(e) = ±enorm and hnorm(Hm_k) =
// ±hnorm exactly (the derivation of LmHead.IdentityLikeHeadGivesExactIntegerLogits: the mean square is
// exactly c², the eps moves x·rsqrt by < 2^-9 relative). So Z[t][k][i] = bf16(±enorm_i ± hnorm_i), a small
// integer: exact. Fails if the embedding row, the broadcast over streams or either norm is mixed up.
TEST(Mtp, InputStageIsExactForIdentityProjections) {
  Model m = make_model(1);
  m.cfg.quant = false;
  for (auto* f : {&m.e_proj, &m.h_proj}) {
    std::fill(f->w.begin(), f->w.end(), uint8_t(0));
    for (int64_t i = 0; i < kD; ++i) f->w[i * kD + i] = fp8_e4m3_encode(1.0f, Sat::satfinite);
    std::fill(f->s.begin(), f->s.end(), ue8m0_encode(1.0f));
  }
  std::mt19937 g(3);
  for (auto* v : {&m.enorm, &m.hnorm})
    for (float& w : *v) w = float(1 + int(g() % 5));
  auto pm = [&](float c) { return bf16_encode((g() & 1) ? c : -c); };
  for (int64_t r = 0; r < kVemb; ++r)
    for (int64_t i = 0; i < kD; ++i) m.embed[r * kD + i] = pm(std::ldexp(1.0f, int(r % 5) - 2));
  const int64_t T = 5, n = kHcMult;
  Inputs in = make_inputs(T, 4);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < kD; ++i) in.Hm[(t * n + k) * kD + i] = pm(std::ldexp(1.0f, int((t + k) % 5) - 2));
  const Out o = prefill(m, in, T);
  for (int64_t t = 0; t < T; ++t)
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < kD; ++i) {
        const double se = bf(m.embed[in.ids[t] * kD + i]) > 0 ? 1 : -1;
        const double sh = bf(in.Hm[(t * n + k) * kD + i]) > 0 ? 1 : -1;
        const double e = se * m.enorm[i] + sh * m.hnorm[i];
        ASSERT_EQ(bf(o.trace.z_in[(t * n + k) * kD + i]), e) << "t " << t << " k " << k << " i " << i;
      }
}

// With norm_eps = 0 (every RMS in the block, hnorm and enorm included), RMSNorm is exactly invariant under
// x -> 4x: the squares scale by 16 and their sum and mean by 16 exactly, the correctly rounded rsqrt of
// 16·ms is rsqrt(ms)/4 exactly, and (4x)·(r/4) = x·r. The spec feeds Hm and the embedding to the block only
// through hnorm and enorm, so scaling both by 4 must change no bit of anything downstream. Fails if Hm
// (or the raw embedding) reached the block any other way.
TEST(Mtp, InputsEnterOnlyThroughTheirNorms) {
  Model m = make_model(2);
  m.cfg.hc.norm_eps = 0.0f;
  const int64_t T = 6;
  Inputs in = make_inputs(T, 5);
  const Out a = prefill(m, in, T);
  for (auto& c : in.Hm) c = bf16_encode(4.0f * bf16_decode(c));
  for (auto& c : m.embed) c = bf16_encode(4.0f * bf16_decode(c));
  const Out b = prefill(m, in, T);
  EXPECT_TRUE(same_bits(a.trace.z_in, b.trace.z_in, "Z after the projections"));
  EXPECT_TRUE(same_bits(a.logits, b.logits, "logits"));
  // and the test can fail: a different Hm does change the logits
  in.Hm[0] = bf16_encode(bf16_decode(in.Hm[0]) + 1.0f);
  const Out c = prefill(m, in, T);
  EXPECT_FALSE(same_bits(a.logits, c.logits, "logits"));
}

// Decode steps after a shorter prefill give the full prefill's rows bit for bit (attention_layer's
// protocol; every other step is per token), past the window (win = 4), and 1 vs 2 threads agree.
TEST(Mtp, DecodeEqualsPrefillAndThreadsAgree) {
  const Model m = make_model(3);
  const int64_t N = 9, s0 = 3, n = kHcMult;
  const Inputs in = make_inputs(N, 6);
  Out full, full2;
  with_threads(1, [&] { full = prefill(m, in, N); });
  with_threads(2, [&] { full2 = prefill(m, in, N); });
  EXPECT_TRUE(same_bits(full.logits, full2.logits, "1 vs 2 threads"));
  EXPECT_TRUE(same_bits(full.trace.z_out, full2.trace.z_out, "1 vs 2 threads, Z out"));
  double mag = 0;  // unit-scale weights keep the logits finite and O(1): the block neither blows up nor vanishes
  for (float l : full.logits) {
    ASSERT_TRUE(std::isfinite(l));
    mag += std::abs(l) / double(full.logits.size());
  }
  EXPECT_GT(mag, 0.05);
  EXPECT_LT(mag, 20.0);

  const auto tab = fx::rope_tab(kRopeSwa, N);
  AttentionState st = attention_state_init(m.cfg.attn, N);
  std::vector<float> logits(size_t(s0 * kV));
  mtp_prefill(m.cfg, m.view(), in.Hm.data(), in.ids.data(), s0, tab.view(), Recipe::canonical, st, logits.data());
  EXPECT_TRUE(same_bits(logits, std::vector<float>(full.logits.begin(), full.logits.begin() + s0 * kV), "prefix"));
  std::vector<float> step(kV);
  for (int64_t p = s0; p < N; ++p) {
    MtpTrace tr;
    mtp_decode(m.cfg, m.view(), in.Hm.data() + p * n * kD, in.ids[p], p, tab.view(), Recipe::canonical, st,
               step.data(), &tr);
    ASSERT_TRUE(same_bits(tr.z_out, std::vector<uint16_t>(full.trace.z_out.begin() + p * n * kD,
                                                          full.trace.z_out.begin() + (p + 1) * n * kD), "Z out"))
        << "p " << p;
    ASSERT_TRUE(same_bits(step, std::vector<float>(full.logits.begin() + p * kV, full.logits.begin() + (p + 1) * kV),
                          "logits"))
        << "p " << p;
  }
}
