// compressor (HCA and CSA, v4-model.md §7, §10) against independent derivations: the pooled entries
// against a double-precision softmax pooling written from the spec's layout (rows, halves, ape by position
// in the block, -inf gates for CSA entry 0's missing previous block), all-equal gates against the mean,
// the post-processing against its separately tested parts at RoPE position r·i, decode-step entries
// against a prefill over the same tokens (bitwise), determinism across thread counts.
#include <gtest/gtest.h>

#include <omp.h>

#include <cmath>
#include <vector>

#include "reference/compressor.h"
#include "reference/formats.h"
#include "reference/hadamard.h"
#include "reference/kv_proj.h"
#include "reference/rmsnorm.h"
#include "tests/support/attention_fixtures.h"

using namespace v4;
namespace fx = v4::fixtures;

namespace {

struct Comp {
  CompressorConfig cfg;
  std::vector<float> wkv, wgate, ape, norm;
  CompressorWeights view() const { return {wkv.data(), wgate.data(), ape.data(), norm.data()}; }
};

Comp make(int64_t d, int64_t c, int64_t r, bool overlap, bool rotate, uint32_t seed) {
  Comp k{{d, c, r, overlap, rotate, true}, {}, {}, {}, {}};
  const int64_t w = k.cfg.width();
  k.wkv = fx::f32_bf16_normal(w * d, seed, 0.06f);
  k.wgate = fx::f32_bf16_normal(w * d, seed + 1, 0.06f);
  k.ape = fx::f32_bf16_normal(r * w, seed + 2, 0.5f);
  k.norm = fx::f32_bf16_normal(c, seed + 3, 0.1f, 1.0f);
  return k;
}

// Double-precision pooling of entry i from the projections, written from the spec (v4-model.md §7):
// non-overlap: rows = tokens r·i + j, channel k; overlap: rows 0..r-1 = tokens r(i-1)+j channel k
// (absent for i = 0), rows r..2r-1 = tokens r·i + j channel c + k. Returns the value and Σ S_j |KV_j|.
void pool_double(const CompressorConfig& cfg, const float* KV, const float* Z, int64_t i, int64_t k, double* val,
                 double* absval) {
  const int64_t r = cfg.r, c = cfg.c, w = cfg.width();
  std::vector<std::pair<double, double>> rows;  // (z, kv)
  if (!cfg.overlap) {
    for (int64_t j = 0; j < r; ++j) rows.push_back({Z[(r * i + j) * w + k], KV[(r * i + j) * w + k]});
  } else {
    if (i > 0)
      for (int64_t j = 0; j < r; ++j) rows.push_back({Z[(r * (i - 1) + j) * w + k], KV[(r * (i - 1) + j) * w + k]});
    for (int64_t j = 0; j < r; ++j) rows.push_back({Z[(r * i + j) * w + c + k], KV[(r * i + j) * w + c + k]});
  }
  double m = -1e300, den = 0, num = 0, a = 0;
  for (auto& [z, v] : rows) m = std::max(m, z);
  for (auto& [z, v] : rows) den += std::exp(z - m);
  for (auto& [z, v] : rows) {
    num += std::exp(z - m) / den * v;
    a += std::exp(z - m) / den * std::fabs(v);
  }
  *val = num;
  *absval = a;
}

std::vector<uint16_t> prefill(const Comp& k, const std::vector<uint16_t>& x, int64_t s, const fx::Table& tab,
                              std::vector<float>* kvs = nullptr, std::vector<float>* scs = nullptr) {
  std::vector<uint16_t> e(s / k.cfg.r * k.cfg.c);
  std::vector<float> a(k.cfg.state_rows() * k.cfg.width()), b(a.size());
  compressor_prefill(k.cfg, k.view(), x.data(), s, tab.view(), Recipe::canonical, e.data(), a.data(), b.data());
  if (kvs) *kvs = a;
  if (scs) *scs = b;
  return e;
}

}  // namespace

TEST(Compressor, PoolingMatchesDoubleSoftmaxOfTheSpecLayout) {
  for (bool overlap : {false, true}) {
    const int64_t d = 128, c = 128, r = overlap ? 4 : 8, s = 5 * r + 3;
    const Comp k = make(d, c, r, overlap, false, 7);
    const auto x = fx::bf16_normal(s * d, 8);
    const int64_t w = k.cfg.width();
    std::vector<float> KV(s * w), Z(s * w), C(s / r * c);
    compressor_project(k.cfg, k.view(), x.data(), s, 0, Recipe::canonical, KV.data(), Z.data());
    // ape by position in the block: Z - gate(x) must be ape[t mod r] exactly (the add is the last op).
    std::vector<float> G(s * w), xf(s * d);
    for (int64_t i = 0; i < s * d; ++i) xf[i] = bf16_decode(x[i]);
    linear_f32(xf.data(), s, k.wgate.data(), w, d, Recipe::canonical, G.data());
    for (int64_t t = 0; t < s; ++t)
      for (int64_t j = 0; j < w; ++j) ASSERT_EQ(Z[t * w + j], G[t * w + j] + k.ape[(t % r) * w + j]);
    compressor_pool_prefill(k.cfg, KV.data(), Z.data(), s, Recipe::canonical, C.data());
    const int rows = int(k.cfg.state_rows());
    for (int64_t i = 0; i < s / r; ++i)
      for (int64_t ch = 0; ch < c; ++ch) {
        double ref, absref;
        pool_double(k.cfg, KV.data(), Z.data(), i, ch, &ref, &absref);
        // fp32 steps: z - m and exp (2^-24 each, relative to e), the sum (rows·2^-24), the division
        // (2^-24), then the fma chain over the rows (rows·2^-24 of Σ|S·KV|): (2·rows + 4)·2^-24·Σ S|KV|,
        // plus the effect of the exp argument's rounding (|z - m|·2^-24, z up to ~8 here: 8·2^-24).
        const double E = (2.0 * rows + 16.0) * 0x1p-24 * absref;
        ASSERT_NEAR(C[i * c + ch], ref, E) << (overlap ? "CSA" : "HCA") << " entry " << i << " channel " << ch;
      }
  }
}

TEST(Compressor, CsaEntryZeroIgnoresItsMissingPreviousBlock) {
  // Entry 0 of a CSA compressor pools only its own 4 rows (the previous rows have gate -inf): making the
  // would-be previous channels (first half) huge changes nothing, while entry 1 does see them.
  const int64_t c = 128, r = 4, s = 8, w = 2 * c;
  CompressorConfig cfg{128, c, r, true, false, true};
  std::vector<float> KV(s * w), Z(s * w);
  for (int64_t t = 0; t < s; ++t)
    for (int64_t k = 0; k < w; ++k) {
      KV[t * w + k] = float((t * 7 + k * 3) % 11) - 5.0f;
      Z[t * w + k] = float((t * 5 + k) % 7) * 0.25f;
    }
  std::vector<float> C(2 * c), C2(2 * c);
  compressor_pool_prefill(cfg, KV.data(), Z.data(), s, Recipe::canonical, C.data());
  auto KV2 = KV;
  for (int64_t t = 0; t < r; ++t)
    for (int64_t k = 0; k < c; ++k) KV2[t * w + k] = 1000.0f;  // block 0, first half: only entry 1 uses it
  compressor_pool_prefill(cfg, KV2.data(), Z.data(), s, Recipe::canonical, C2.data());
  for (int64_t k = 0; k < c; ++k) {
    EXPECT_EQ(C[k], C2[k]) << "entry 0 channel " << k;
    EXPECT_NE(C[c + k], C2[c + k]) << "entry 1 channel " << k << " pools block 0's first half";
    double ref, a;
    pool_double(cfg, KV.data(), Z.data(), 0, k, &ref, &a);  // 4 rows only
    EXPECT_NEAR(C[k], ref, 16 * 0x1p-24 * a);
  }
}

TEST(Compressor, AllEqualGatesGiveTheMean) {
  // Equal gates: every softmax weight is exactly 1/rows (exp(0) = 1, the sum is exact, rows is a power of
  // two), so the entry is the mean of its rows; with small-integer KV every partial sum is exact and the
  // result equals the mean bit for bit.
  for (bool overlap : {false, true}) {
    const int64_t c = 128, r = overlap ? 4 : 128, s = 3 * r, w = overlap ? 2 * c : c;
    CompressorConfig cfg{128, c, r, overlap, false, true};
    std::vector<float> KV(s * w), Z(s * w, 0.625f), C(3 * c);
    for (int64_t t = 0; t < s; ++t)
      for (int64_t k = 0; k < w; ++k) KV[t * w + k] = float((t * 13 + k * 29) % 31) - 15.0f;
    compressor_pool_prefill(cfg, KV.data(), Z.data(), s, Recipe::canonical, C.data());
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t k = 0; k < c; ++k) {
        double sum = 0;
        int n = 0;
        if (!overlap) {
          for (int64_t j = 0; j < r; ++j, ++n) sum += KV[(r * i + j) * w + k];
        } else {
          if (i > 0)
            for (int64_t j = 0; j < r; ++j, ++n) sum += KV[(r * (i - 1) + j) * w + k];
          for (int64_t j = 0; j < r; ++j, ++n) sum += KV[(r * i + j) * w + c + k];
        }
        ASSERT_EQ(double(C[i * c + k]), sum / n) << (overlap ? "CSA" : "HCA") << " entry " << i << " channel " << k;
      }
  }
}

TEST(Compressor, FinishNormalisesRotatesAtTheBlockStartAndSimulates) {
  const int64_t d = 128, c = 192, r = 4, n = 5;
  Comp k = make(d, c, r, true, false, 30);
  const auto tab = fx::rope_tab(kRopeCompressed, 64);
  std::vector<float> C(n * c);
  for (int64_t i = 0; i < n * c; ++i) C[i] = float(std::sin(0.37 * double(i))) * 3.0f;
  std::vector<uint16_t> got(n * c), b(n * c), want(n * c);
  for (int64_t i = 0; i < n * c; ++i) b[i] = bf16_encode(C[i]);
  rmsnorm(b.data(), k.norm.data(), n, c, kRmsNormEps, Recipe::canonical, want.data());
  std::vector<int32_t> pos;
  for (int64_t i = 0; i < n; ++i) pos.push_back(int32_t(r * (2 + i)));  // entries 2..6: positions 8, 12, ...
  rope_apply(want.data(), n, c, pos.data(), 1, tab.view(), false);
  k.cfg.sim = false;
  compressor_finish(k.cfg, k.view(), C.data(), n, 2, tab.view(), Recipe::canonical, got.data());
  EXPECT_EQ(got, want);
  k.cfg.sim = true;
  kv_fp8_sim(want.data(), n, c, 64);
  compressor_finish(k.cfg, k.view(), C.data(), n, 2, tab.view(), Recipe::canonical, got.data());
  EXPECT_EQ(got, want);
  // The indexer variant: Hadamard over all c (= 128) dims after RoPE, then FP4 in blocks of 32.
  Comp ki = make(d, 128, r, true, true, 31);
  std::vector<float> Ci(n * 128, 0.0f);
  for (int64_t i = 0; i < n * 128; ++i) Ci[i] = float(std::cos(0.11 * double(i))) * 2.0f;
  std::vector<uint16_t> gi(n * 128), bi(n * 128), wi(n * 128);
  for (int64_t i = 0; i < n * 128; ++i) bi[i] = bf16_encode(Ci[i]);
  rmsnorm(bi.data(), ki.norm.data(), n, 128, kRmsNormEps, Recipe::canonical, wi.data());
  rope_apply(wi.data(), n, 128, pos.data(), 1, tab.view(), false);
  hadamard(wi.data(), n, 128, wi.data());
  ki.cfg.sim = false;
  compressor_finish(ki.cfg, ki.view(), Ci.data(), n, 2, tab.view(), Recipe::canonical, gi.data());
  EXPECT_EQ(gi, wi);
}

TEST(Compressor, DecodeEntriesEqualPrefillEntriesBitwise) {
  const fx::ThreadsScope one(1);
  struct Kind {
    const char* name;
    int64_t c, r;
    bool overlap, rotate;
  };
  for (const Kind& kd : {Kind{"HCA", 128, 8, false, false}, Kind{"HCA r=128", 128, 128, false, false},
                         Kind{"CSA", 128, 4, true, false}, Kind{"CSA indexer", 128, 4, true, true}}) {
    const int64_t d = 128, N = kd.r == 128 ? 300 : 43;
    const Comp k = make(d, kd.c, kd.r, kd.overlap, kd.rotate, 40);
    const auto x = fx::bf16_normal(N * d, 41, 1.5f);
    const auto tab = fx::rope_tab(kRopeCompressed, N + 1);
    const auto full = prefill(k, x, N, tab);
    for (int64_t s0 : {int64_t(1), int64_t(3), kd.r, kd.r + 1, 2 * kd.r + 3}) {
      if (s0 >= N) continue;
      std::vector<float> kvs, scs;
      auto entries = prefill(k, x, s0, tab, &kvs, &scs);
      ASSERT_TRUE(std::equal(entries.begin(), entries.end(), full.begin())) << kd.name << " s0 " << s0;
      std::vector<uint16_t> e(kd.c);
      for (int64_t p = s0; p < N; ++p) {
        const bool emitted = compressor_decode(k.cfg, k.view(), x.data() + p * d, p, tab.view(), Recipe::canonical,
                                               kvs.data(), scs.data(), e.data());
        ASSERT_EQ(emitted, (p + 1) % kd.r == 0);
        if (emitted) {
          ASSERT_TRUE(std::equal(e.begin(), e.end(), full.begin() + (p / kd.r) * kd.c))
              << kd.name << ": decode entry " << p / kd.r << " (prefill " << s0 << ") differs from the prefill";
        }
      }
    }
  }
}

TEST(Compressor, DeterministicAcrossThreads) {
  const Comp k = make(128, 128, 4, true, false, 50);
  const auto x = fx::bf16_normal(37 * 128, 51);
  const auto tab = fx::rope_tab(kRopeCompressed, 40);
  omp_set_num_threads(1);
  const auto a = prefill(k, x, 37, tab);
  omp_set_num_threads(3);
  EXPECT_EQ(prefill(k, x, 37, tab), a);
  omp_set_num_threads(omp_get_num_procs());
}
