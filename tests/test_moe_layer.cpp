// moe_layer: equal bit for bit to its parts run separately (routing, every (token, slot) through its
// expert alone, the shared expert, moe_combine), for score and hash routing, quantization on and off;
// stored and generated expert weights give the same bits; identical for any thread count and any batch
// composition; and 43 stacked blocks of mhc_pre -> RMSNorm -> moe_layer -> mhc_post on generated weights
// keep the residual streams in a sensible range (neither blowing up nor collapsing).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "reference/hash_router.h"
#include "reference/mhc_post.h"
#include "reference/mhc_pre.h"
#include "reference/moe_combine.h"
#include "reference/moe_layer.h"
#include "reference/weight_dequant.h"
#include "reference/weights.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

constexpr uint64_t kSeed = 31337;

// A small MoE layer on generated weights: gate, bias, hash table, shared expert, and all E experts stored.
struct Layer {
  MoeLayerConfig cfg;
  int32_t layer = 5;
  int64_t vocab = 100;
  std::vector<uint16_t> gate_w;
  std::vector<float> bias;
  std::vector<int32_t> table;
  std::vector<uint8_t> w1, s1, w3, s3, w2, s2;        // [E, ...] routed
  std::vector<uint8_t> h1, hs1, h3, hs3, h2, hs2;     // shared
  ExpertFp8Weights shared() const { return {h1.data(), hs1.data(), h3.data(), hs3.data(), h2.data(), hs2.data()}; }
  ExpertSource stored() const {
    return stored_experts(w1.data(), s1.data(), w3.data(), s3.data(), w2.data(), s2.data(), cfg.d, cfg.I);
  }
  ExpertFp4Weights expert(int64_t e) const { return stored()(e); }
};

Layer make_layer(int64_t d, int64_t I, int64_t E, int32_t layer) {
  Layer L;
  L.cfg.d = d;
  L.cfg.I = I;
  L.cfg.E = E;
  L.layer = layer;
  const WeightId id{kSeed, layer, -1};
  L.gate_w.resize(E * d);
  weights_bf16(id, "ffn.gate.weight", E * d, weight_normal_exp(d), L.gate_w.data());
  L.bias.resize(E);
  weights_f32(id, "ffn.gate.bias", E, -5, L.bias.data());
  L.table.resize(L.vocab * L.cfg.k);
  weights_tid2eid(id, L.vocab, E, L.cfg.k, L.table.data());
  const int64_t wb = I * d / 2, sb = I * d / 32;
  for (auto* v : {&L.w1, &L.w3, &L.w2}) v->resize(E * wb);
  for (auto* v : {&L.s1, &L.s3, &L.s2}) v->resize(E * sb);
  for (int64_t e = 0; e < E; ++e) {
    const WeightId ie{kSeed, layer, int32_t(e)};
    weights_fp4(ie, "ffn.experts.w1", I, d, L.w1.data() + e * wb, L.s1.data() + e * sb);
    weights_fp4(ie, "ffn.experts.w3", I, d, L.w3.data() + e * wb, L.s3.data() + e * sb);
    weights_fp4(ie, "ffn.experts.w2", d, I, L.w2.data() + e * wb, L.s2.data() + e * sb);
  }
  auto fp8 = [&](const char* name, int64_t N, int64_t K, std::vector<uint8_t>& w, std::vector<uint8_t>& s) {
    w.resize(N * K);
    s.resize(((N + 127) / 128) * (K / 128));
    weights_fp8(id, name, N, K, w.data(), s.data());
  };
  fp8("ffn.shared_experts.w1", I, d, L.h1, L.hs1);
  fp8("ffn.shared_experts.w3", I, d, L.h3, L.hs3);
  fp8("ffn.shared_experts.w2", d, I, L.h2, L.hs2);
  return L;
}

MoeRouting routing(const Layer& L, bool hash, const std::vector<int32_t>& ids) {
  MoeRouting r;
  r.gate_w = L.gate_w.data();
  if (hash) {
    r.tid2eid = L.table.data();
    r.vocab = L.vocab;
    r.token_ids = ids.data();
  } else {
    r.gate_bias = L.bias.data();
  }
  return r;
}

std::vector<uint16_t> run_layer(const Layer& L, const std::vector<uint16_t>& x, const std::vector<int32_t>& ids,
                                bool hash, const ExpertSource& src, MoeStats* st = nullptr) {
  const int64_t T = int64_t(ids.size());
  std::vector<uint16_t> out(T * L.cfg.d);
  moe_layer(x.data(), T, L.cfg, routing(L, hash, ids), src, L.shared(), Recipe::canonical, out.data(), st);
  return out;
}

std::vector<int32_t> token_ids(int64_t T, int64_t V, uint32_t seed) {
  std::mt19937 g(seed);
  std::vector<int32_t> ids(T);
  for (auto& i : ids) i = int32_t(g() % uint32_t(V));
  return ids;
}

}  // namespace

TEST(MoeLayer, EqualsItsPartsRunSeparately) {
  const Layer L0 = make_layer(256, 128, 16, 5);
  const int64_t T = 13, d = L0.cfg.d, I = L0.cfg.I;
  const int k = L0.cfg.k;
  const auto x = normal_bf16(size_t(T * d), 1.0f, 1);
  const auto ids = token_ids(T, L0.vocab, 2);
  for (bool hash : {false, true})
    for (bool quant : {true, false}) {
      Layer L = L0;
      L.cfg.quant = quant;
      const auto got = run_layer(L, x, ids, hash, L.stored());
      // Parts: routing, then each (token, slot) through its expert as a batch of one.
      std::vector<float> w(T * k), scores(T * L.cfg.E);
      std::vector<int32_t> idx(T * k);
      if (hash)
        hash_router(x.data(), L.gate_w.data(), ids.data(), L.table.data(), L.vocab, T, d, L.cfg.E, k,
                    L.cfg.route_scale, Recipe::canonical, w.data(), idx.data());
      else
        moe_gate(x.data(), L.gate_w.data(), L.bias.data(), T, d, L.cfg.E, k, L.cfg.route_scale, Recipe::canonical,
                 w.data(), idx.data());
      std::vector<uint16_t> yr(T * k * d), ys(T * d), want(T * d);
      std::vector<uint16_t> b1(I * d), b3(I * d), b2(d * I);
      for (int64_t s = 0; s < T * k; ++s) {
        const ExpertFp4Weights ew = L.expert(idx[s]);
        const uint16_t* xt = x.data() + (s / k) * d;
        if (quant) {
          expert_ffn_fp4(xt, &w[s], 1, d, I, ew, kSwigluLimit, Recipe::canonical, yr.data() + s * d);
        } else {
          weight_dequant_fp4(ew.w1, ew.s1, I, d, b1.data());
          weight_dequant_fp4(ew.w3, ew.s3, I, d, b3.data());
          weight_dequant_fp4(ew.w2, ew.s2, d, I, b2.data());
          expert_ffn_bf16(xt, &w[s], 1, d, I, {b1.data(), b3.data(), b2.data()}, kSwigluLimit, Recipe::canonical,
                          yr.data() + s * d);
        }
      }
      if (quant) {
        shared_expert_fp8(x.data(), T, d, I, L.shared(), true, Recipe::canonical, ys.data());
      } else {
        std::vector<uint16_t> c1(I * d), c3(I * d), c2(d * I);
        weight_dequant_fp8(L.h1.data(), L.hs1.data(), I, d, c1.data());
        weight_dequant_fp8(L.h3.data(), L.hs3.data(), I, d, c3.data());
        weight_dequant_fp8(L.h2.data(), L.hs2.data(), d, I, c2.data());
        shared_expert_bf16(x.data(), T, d, I, {c1.data(), c3.data(), c2.data()}, true, Recipe::canonical, ys.data());
      }
      moe_combine(yr.data(), idx.data(), ys.data(), T, k, d, want.data());
      EXPECT_TRUE(same_bits(got, want, std::string(hash ? "hash" : "gate") + (quant ? " quant" : " bf16")));
    }
}

TEST(MoeLayer, GeneratedAndStoredExpertsGiveTheSameBits) {
  const Layer L = make_layer(256, 128, 16, 7);
  const int64_t T = 9;
  const auto x = normal_bf16(size_t(T * L.cfg.d), 1.0f, 3);
  const auto ids = token_ids(T, L.vocab, 4);
  GeneratedExperts gen(kSeed, 7, L.cfg.d, L.cfg.I);
  MoeStats st;
  EXPECT_TRUE(same_bits(run_layer(L, x, ids, false, std::ref(gen), &st), run_layer(L, x, ids, false, L.stored()),
                        "generated vs stored"));
  EXPECT_GT(st.experts_used, 0);
  EXPECT_LE(st.experts_used, std::min<int64_t>(L.cfg.E, T * L.cfg.k));
}

TEST(MoeLayer, IdenticalForAnyThreadCountAndBatchComposition) {
  const Layer L = make_layer(256, 256, 16, 9);
  const int64_t T = 20, d = L.cfg.d;
  const auto x = normal_bf16(size_t(T * d), 1.0f, 5);
  const auto ids = token_ids(T, L.vocab, 6);
  for (bool hash : {false, true}) {
    std::vector<uint16_t> a, b;
    with_threads(1, [&] { a = run_layer(L, x, ids, hash, L.stored()); });
    with_threads(2, [&] { b = run_layer(L, x, ids, hash, L.stored()); });
    EXPECT_TRUE(same_bits(a, b, "threads"));
    // The batch reversed, and token 11 alone: each token gets the same bits.
    std::vector<uint16_t> xr(x.size());
    std::vector<int32_t> idr(ids.rbegin(), ids.rend());
    for (int64_t t = 0; t < T; ++t) std::copy(x.begin() + t * d, x.begin() + (t + 1) * d, xr.begin() + (T - 1 - t) * d);
    const auto r = run_layer(L, xr, idr, hash, L.stored());
    for (int64_t t = 0; t < T; ++t)
      ASSERT_TRUE(std::equal(a.begin() + t * d, a.begin() + (t + 1) * d, r.begin() + (T - 1 - t) * d)) << "token " << t;
    const std::vector<uint16_t> x11(x.begin() + 11 * d, x.begin() + 12 * d);
    const auto one = run_layer(L, x11, {ids[11]}, hash, L.stored());
    EXPECT_TRUE(std::equal(one.begin(), one.end(), a.begin() + 11 * d)) << "token 11 alone";
  }
}

// Test-local RMSNorm in double, rounded to bf16 (only to feed the MoE a normalized input here; the
// model's RMSNorm is its own component): y = bf16(w · x / sqrt(mean(x²) + 1e-6)).
std::vector<uint16_t> rms_norm(const std::vector<uint16_t>& x, const std::vector<uint16_t>& w, int64_t T, int64_t d) {
  std::vector<uint16_t> y(x.size());
  for (int64_t t = 0; t < T; ++t) {
    double ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += bf(x[t * d + i]) * bf(x[t * d + i]);
    const double r = 1 / std::sqrt(ss / double(d) + 1e-6);
    for (int64_t i = 0; i < d; ++i) y[t * d + i] = bf16_encode(float(bf(w[i]) * bf(x[t * d + i]) * r));
  }
  return y;
}

// 43 blocks (V4-Flash depth) of mhc_pre -> RMSNorm -> moe_layer -> mhc_post on generated weights (the
// attention sublayer omitted: it is not part of this component), from embeddings generated as the
// model's: the RMS of the residual streams must stay within [0.01, 100] (two decades around O(1)) and
// every MoE output RMS within [0.01, 10] at every layer. Layers 0-2 route by hash, as V4's.
TEST(MoeLayer, FortyThreeGeneratedBlocksKeepActivationsInRange) {
  const int64_t d = 256, I = 128, E = 16, T = 4;
  MhcShape s;
  s.T = T;
  s.d = d;
  const int n = s.n;
  std::vector<uint16_t> emb(T * d);
  weights_bf16({kSeed, -1, -1}, "embed.weight", T * d, -4, emb.data());  // T rows of the table
  std::vector<uint16_t> R(T * n * d);
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < n; ++k) std::copy(emb.begin() + t * d, emb.begin() + (t + 1) * d, R.begin() + (t * n + k) * d);
  const std::vector<int32_t> ids = {3, 17, 42, 99};
  auto rms = [](const std::vector<uint16_t>& v) {
    double ss = 0;
    for (uint16_t c : v) ss += bf(c) * bf(c);
    return std::sqrt(ss / double(v.size()));
  };
  std::vector<double> trace_r, trace_f;
  for (int32_t layer = 0; layer < 43; ++layer) {
    const Layer L = make_layer(d, I, E, layer);
    const WeightId id{kSeed, layer, -1};
    std::vector<float> fn(s.mix_width() * s.width()), base(s.mix_width()), scale(3), post(T * n), comb(T * n * n);
    weights_mhc(id, "hc_ffn", n, d, false, fn.data(), base.data(), scale.data());
    std::vector<uint16_t> x(T * d), nw(d);
    mhc_pre(R.data(), fn.data(), base.data(), scale.data(), s, Recipe::canonical, x.data(), post.data(), comb.data());
    weights_norm_bf16(id, "ffn_norm.weight", d, nw.data());
    const auto f = run_layer(L, rms_norm(x, nw, T, d), ids, layer < kHashLayers, L.stored());
    mhc_post(f.data(), R.data(), post.data(), comb.data(), s, Recipe::canonical, R.data());
    trace_r.push_back(rms(R));
    trace_f.push_back(rms(f));
    ASSERT_GE(trace_r.back(), 0.01) << "layer " << layer;
    ASSERT_LE(trace_r.back(), 100.0) << "layer " << layer;
    ASSERT_GE(trace_f.back(), 0.01) << "layer " << layer;
    ASSERT_LE(trace_f.back(), 10.0) << "layer " << layer;
  }
  RecordProperty("residual_rms_layer_0_21_42",
                 std::to_string(trace_r[0]) + " " + std::to_string(trace_r[21]) + " " + std::to_string(trace_r[42]));
  RecordProperty("moe_out_rms_layer_0_21_42",
                 std::to_string(trace_f[0]) + " " + std::to_string(trace_f[21]) + " " + std::to_string(trace_f[42]));
  std::printf("residual RMS by layer:");
  for (double v : trace_r) std::printf(" %.3g", v);
  std::printf("\nMoE output RMS by layer:");
  for (double v : trace_f) std::printf(" %.3g", v);
  std::printf("\n");
}
