// indexer (v4-model.md §8) and the top-k rule (design.md §3) against independent derivations: top-k
// against a stable sort; Hadamard as its own inverse up to scaling and rounding; the index scores
// against a double-precision evaluation WITHOUT any rotation (the Hadamard is orthogonal, so the scores
// match only if q and k are both rotated: skipping either side fails); the causal mask, the -1 marking
// and offsets against the visibility rule; decode selections equal the prefill rows bitwise;
// determinism across thread counts.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "reference/compressor.h"
#include "reference/formats.h"
#include "reference/hadamard.h"
#include "reference/indexer.h"
#include "reference/topk.h"
#include "tests/support/attention_fixtures.h"

using namespace v4;
namespace fx = v4::fixtures;

namespace {

struct Idx {
  IndexerConfig cfg;
  fx::Fp8W wq_b;
  std::vector<uint16_t> wproj;
  std::vector<float> wkv, wgate, ape, norm;
  IndexerWeights view() const {
    return {wq_b.view(), wproj.data(), {wkv.data(), wgate.data(), ape.data(), norm.data()}};
  }
};

Idx make(int64_t topk, bool quant, bool fp4, uint32_t seed) {
  const int64_t d = 128, dc = 128, nh = 4, hd = 128, r = 4;
  Idx k{{d, dc, nh, hd, topk, r, quant, fp4}, fx::fp8_normal(nh * hd, dc, seed, 0.09f), {}, {}, {}, {}, {}};
  k.wproj = fx::bf16_normal(nh * d, seed + 1, 0.3f);
  k.wkv = fx::f32_bf16_normal(2 * hd * d, seed + 2, 0.09f);
  k.wgate = fx::f32_bf16_normal(2 * hd * d, seed + 3, 0.09f);
  k.ape = fx::f32_bf16_normal(r * 2 * hd, seed + 4, 0.5f);
  k.norm = fx::f32_bf16_normal(hd, seed + 5, 0.1f, 1.0f);
  return k;
}

struct Prefill {
  std::vector<int32_t> idx;
  std::vector<uint16_t> kcache;
  std::vector<float> kvs, scs;
  IndexerTrace trace;
};
Prefill prefill(const Idx& k, const std::vector<uint16_t>& x, const std::vector<uint16_t>& qr, int64_t S,
                const fx::Table& tab, int64_t offset) {
  Prefill p;
  const auto cc = k.cfg.compressor();
  p.idx.resize(S * indexer_prefill_width(k.cfg.topk, S, 4));
  p.kcache.resize((S / 4 + 64) * k.cfg.hd);
  p.kvs.resize(cc.state_rows() * cc.width());
  p.scs.resize(p.kvs.size());
  indexer_prefill(k.cfg, k.view(), x.data(), qr.data(), S, tab.view(), Recipe::canonical, offset, p.idx.data(),
                  p.kcache.data(), p.kvs.data(), p.scs.data(), &p.trace);
  return p;
}

}  // namespace

TEST(TopK, LargerScoreFirstThenSmallerIndex) {
  const std::vector<float> s = {1.0f, 3.0f, 3.0f, -0.0f, 2.0f, 3.0f, 0.0f, -__builtin_inff()};
  std::vector<int32_t> out(6);
  topk_select(s.data(), 8, 6, out.data());
  EXPECT_EQ(out, (std::vector<int32_t>{1, 2, 5, 4, 0, 3}));  // 3,3,3 by index; -0 and +0 tie: 3 before 6
  // Against a stable sort by descending score (an independent formulation of the same rule), random
  // bf16 scores with many ties.
  std::mt19937 rng(1);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t n = 1 + rng() % 300, k = rng() % (n + 1);
    std::vector<float> v(n);
    for (auto& x : v) x = bf16_round(float(int(rng() % 40)) * 0.125f - 2.0f);
    std::vector<int32_t> want(n), got(k);
    std::iota(want.begin(), want.end(), 0);
    std::stable_sort(want.begin(), want.end(), [&](int32_t a, int32_t b) { return v[a] > v[b]; });
    topk_select(v.data(), n, k, got.data());
    ASSERT_TRUE(std::equal(got.begin(), got.end(), want.begin())) << "trial " << trial;
  }
}

TEST(Hadamard, IsItsOwnInverseUpToScalingAndRounding) {
  // (s·H)(s·H) = s²·n·I = I for s = n^-1/2. Each application ends in a bf16 rounding (<= 2^-8 relative per
  // component); the first one's error vector (norm <= 2^-8·|x|) passes through the orthonormal s·H, whose
  // output component is bounded by the vector norm; the fp32 butterflies add < log2(n)·2^-24·s·Σ|x|.
  const int64_t rows = 50, n = 128;
  const auto x = fx::bf16_normal(rows * n, 3);
  std::vector<uint16_t> y(x.size()), z(x.size());
  hadamard(x.data(), rows, n, y.data());
  hadamard(y.data(), rows, n, z.data());
  int moved = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double nrm = 0, l1 = 0;
    for (int64_t i = 0; i < n; ++i) {
      nrm += double(bf16_decode(x[r * n + i])) * bf16_decode(x[r * n + i]);
      l1 += std::fabs(bf16_decode(x[r * n + i]));
    }
    nrm = std::sqrt(nrm);
    for (int64_t i = 0; i < n; ++i) {
      const double a = bf16_decode(x[r * n + i]), b = bf16_decode(z[r * n + i]);
      const double bound = 0x1p-8 * (nrm + std::fabs(a)) * 1.01 + 2 * 7 * 0x1p-24 * l1 / std::sqrt(double(n));
      ASSERT_LE(std::fabs(a - b), bound) << "row " << r << " dim " << i;
      moved += a != b;
    }
  }
  EXPECT_GT(moved, 0);
}

TEST(Indexer, WeightScaleIsTheV4Constant) {
  EXPECT_EQ(indexer_weight_scale(64, 128), float(0.011048543456039806));
}

TEST(Indexer, ScoresNeedTheRotationOnBothSides) {
  // With the FP4 simulation off, the rotated scores must match a double evaluation of the UNROTATED
  // q·k (Hadamard is orthogonal): a q or a k that skipped its rotation would not.
  const int64_t S = 40, d = 128, dc = 128, nh = 4, hd = 128;
  const Idx k = make(8, true, false, 10);
  const auto x = fx::bf16_normal(S * d, 11), qr = fx::bf16_normal(S * dc, 12);
  const auto tab = fx::rope_tab(kRopeCompressed, S + 1);
  const Prefill p = prefill(k, x, qr, S, tab, S);
  const int64_t n = S / 4;
  // Unrotated q: wq_b then RoPE (parts tested elsewhere); unrotated k: the same compressor without rotation.
  std::vector<uint16_t> q(S * nh * hd);
  linear_fp8(qr.data(), S, k.wq_b.view(), Recipe::canonical, true, q.data());
  std::vector<int32_t> pos(S);
  std::iota(pos.begin(), pos.end(), 0);
  rope_apply(q.data(), S * nh, hd, pos.data(), nh, tab.view(), false);
  CompressorConfig plain = k.cfg.compressor();
  plain.rotate = false;
  plain.sim = false;
  std::vector<uint16_t> kk(n * hd);
  std::vector<float> a(plain.state_rows() * plain.width()), b(a.size());
  compressor_prefill(plain, k.view().comp, x.data(), S, tab.view(), Recipe::canonical, kk.data(), a.data(), b.data());
  int checked = 0;
  for (int64_t t = 0; t < S; ++t)
    for (int64_t s = 0; s < n; ++s) {
      const float got = p.trace.score[t * n + s];
      if (s >= (t + 1) / 4) {
        ASSERT_EQ(got, -__builtin_inff()) << "masked entry t " << t << " s " << s;
        continue;
      }
      double ref = 0, bound = 0;
      for (int64_t h = 0; h < nh; ++h) {
        double dot = 0, qn = 0, kn = 0;
        for (int64_t i = 0; i < hd; ++i) {
          const double qv = bf16_decode(q[(t * nh + h) * hd + i]), kv = bf16_decode(kk[s * hd + i]);
          dot += qv * kv;
          qn += qv * qv;
          kn += kv * kv;
        }
        const double wv = bf16_decode(p.trace.w[t * nh + h]);
        ref += std::max(dot, 0.0) * wv;
        // Hadamard outputs carry one bf16 rounding each (error norms <= 2^-8·|q|, 2^-8·|k|): q·k moves by
        // <= 2^-7·|q||k|·1.01; then bf16(e) and bf16(relu·w') add 2^-8 of their values each.
        bound += std::fabs(wv) * (0x1p-7 * std::sqrt(qn * kn) * 1.01 + 0x1p-7 * std::fabs(dot) * 1.01);
      }
      bound += 0x1p-8 * std::fabs(ref) + nh * 0x1p-24 * bound;  // the final bf16 cast, the fp32 head sum
      ASSERT_NEAR(got, ref, bound) << "t " << t << " s " << s;
      ++checked;
    }
  EXPECT_GT(checked, 100);
}

TEST(Indexer, PrefillSelectsVisibleTopKInOrderWithOffsets) {
  const int64_t S = 61, d = 128, dc = 128;
  const Idx k = make(6, true, true, 20);
  const auto x = fx::bf16_normal(S * d, 21), qr = fx::bf16_normal(S * dc, 22);
  const auto tab = fx::rope_tab(kRopeCompressed, S + 1);
  const int64_t offset = S;
  const Prefill p = prefill(k, x, qr, S, tab, offset);
  const int64_t n = S / 4, K = indexer_prefill_width(6, S, 4);
  ASSERT_EQ(K, 6);
  for (int64_t t = 0; t < S; ++t) {
    const int64_t vis = (t + 1) / 4;
    // Independent: stable sort of the visible entries by descending score, first min(K, vis), + offset.
    std::vector<int32_t> order(vis);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return p.trace.score[t * n + a] > p.trace.score[t * n + b]; });
    for (int64_t j = 0; j < K; ++j) {
      const int32_t want = j < vis ? int32_t(order[j] + offset) : -1;
      ASSERT_EQ(p.idx[t * K + j], want) << "t " << t << " j " << j;
    }
  }
}

TEST(Indexer, DecodeSelectionsEqualPrefillRowsBitwise) {
  const fx::ThreadsScope one(1);
  const int64_t N = 50, d = 128, dc = 128, win = 16;
  for (bool fp4 : {true, false}) {
    const Idx k = make(5, true, fp4, 30);
    const auto x = fx::bf16_normal(N * d, 31), qr = fx::bf16_normal(N * dc, 32);
    const auto tab = fx::rope_tab(kRopeCompressed, N + 1);
    const Prefill full = prefill(k, x, qr, N, tab, N);
    const int64_t K = indexer_prefill_width(5, N, 4);
    for (int64_t s0 : {1, 4, 7, 22}) {
      Prefill p = prefill(k, x, qr, s0, tab, s0);
      for (int64_t pp = s0; pp < N; ++pp) {
        std::vector<int32_t> idx(indexer_decode_width(5, pp, 4));
        IndexerTrace tr;
        indexer_decode(k.cfg, k.view(), x.data() + pp * d, qr.data() + pp * dc, pp, tab.view(), Recipe::canonical, win,
                       idx.data(), p.kcache.data(), p.kvs.data(), p.scs.data(), &tr);
        const int64_t n = (pp + 1) / 4;
        for (int64_t s = 0; s < n; ++s) ASSERT_EQ(tr.score[s], full.trace.score[pp * (N / 4) + s]) << pp << " " << s;
        for (int64_t j = 0; j < K; ++j) {  // the prefill row's valid prefix, offset N -> win; then -1
          const int32_t f = full.idx[pp * K + j];
          if (j < int64_t(idx.size())) {
            ASSERT_EQ(idx[j] - win, f - N) << "p " << pp << " j " << j;
          } else {
            ASSERT_EQ(f, -1);
          }
        }
      }
      ASSERT_TRUE(std::equal(p.kcache.begin(), p.kcache.begin() + (N / 4) * 128, full.kcache.begin()));
    }
  }
}

TEST(Indexer, DeterministicAcrossThreads) {
  const int64_t S = 45;
  const Idx k = make(7, true, true, 40);
  const auto x = fx::bf16_normal(S * 128, 41), qr = fx::bf16_normal(S * 128, 42);
  const auto tab = fx::rope_tab(kRopeCompressed, S + 1);
  omp_set_num_threads(1);
  const Prefill a = prefill(k, x, qr, S, tab, S);
  omp_set_num_threads(3);
  const Prefill b = prefill(k, x, qr, S, tab, S);
  EXPECT_EQ(a.idx, b.idx);
  EXPECT_EQ(a.trace.score, b.trace.score);
  omp_set_num_threads(omp_get_num_procs());
}
