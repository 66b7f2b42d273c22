// sparse_attention against independent derivations: (1) with an index list covering every key (shuffled,
// with -1 entries and a fully masked block inside) the output equals dense softmax attention with a sink,
// computed in double, within a bound derived from the bf16 and fp32 roundings; (2) a hand-derived
// one-block case pins the spec's rounding points (bf16 P in the numerator only, the sink in the
// denominator only, never in the max); (3) trailing -1 entries change no bit; (4) determinism across
// thread counts and batch compositions.
#include <gtest/gtest.h>

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "reference/formats.h"
#include "reference/sparse_attention.h"

using namespace v4;

namespace {

struct Case {
  int64_t T, H, c, N, K;
  std::vector<uint16_t> q, kv;
  std::vector<int32_t> idx;
  std::vector<float> sink;
};

// q rows with RMS about 1 (as after the head RMS norm), kv rows about N(0, 1) with a few larger
// channels, so logits after the 512^-1/2 scale spread over several units.
Case make_case(int64_t T, int64_t H, int64_t c, int64_t N, uint32_t seed) {
  Case k{T, H, c, N, 0, {}, {}, {}, {}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> g;
  k.q.resize(T * H * c);
  k.kv.resize(N * c);
  for (auto& v : k.q) v = bf16_encode(g(rng));
  for (int64_t i = 0; i < N * c; ++i) k.kv[i] = bf16_encode(g(rng) * ((i % c) < 8 ? 6.0f : 1.0f));
  k.sink.resize(H);
  for (int64_t h = 0; h < H; ++h) k.sink[h] = float(h) - 2.0f;
  // Every query lists all N keys, shuffled, with a run of 64 -1 entries (a fully masked block when
  // aligned) after the first 40 keys and a few scattered -1 entries; rows padded with -1 to K.
  std::vector<std::vector<int32_t>> rows(T);
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int32_t> perm(N);
    for (int64_t j = 0; j < N; ++j) perm[j] = int32_t(j);
    std::shuffle(perm.begin(), perm.end(), rng);
    auto& row = rows[t];
    for (int64_t j = 0; j < N; ++j) {
      if (j == 40)
        for (int u = 0; u < 24 + 64; ++u) row.push_back(-1);  // entries 40..127: block 1 fully masked
      if (rng() % 11 == 0) row.push_back(-1);
      row.push_back(perm[j]);
    }
    k.K = std::max<int64_t>(k.K, int64_t(row.size()));
  }
  k.K += 5;
  for (auto& row : rows) {
    row.resize(k.K, -1);
    k.idx.insert(k.idx.end(), row.begin(), row.end());
  }
  return k;
}

std::vector<uint16_t> run(const Case& k, Recipe r, float scale = kAttnScaleV4) {
  std::vector<uint16_t> out(k.T * k.H * k.c);
  sparse_attention(k.q.data(), k.kv.data(), k.N, k.idx.data(), k.T, k.K, k.H, k.c, k.sink.data(), scale, r,
                   out.data());
  return out;
}

// Dense softmax with sink in double and the error bound of the kernel's rounding points, per output:
//   bf16(p) in the numerator: <= 2^-8 relative per term          -> 2^-8 · S1, S1 = Σ_j w_j |v_j|
//   logits: the fp32 dot over c terms, <= c·2^-24·Σ|q||k| (times scale), the scale multiply, the
//           subtraction z - m and the exp (2^-24 relative each) -> Δ; it moves numerator and
//           denominator by <= e^Δ - 1 each                         -> 2Δ·S1 (first order)
//   Σp (K adds), the P·V chain (K fmas), the rescales (one per block, o and l), the sink add and the
//   final division: each 2^-24 relative                             -> (2K + 2·blocks + 4)·2^-24 · S1
// E = 1.05·S1·(2^-8 + 2Δ + (2K + 2 blocks + 4)·2^-24) + 2^-120 (the bf16 P subnormal floor), and the
// bf16 output must lie within the bf16 roundings of ref ± E.
void expect_dense(const Case& k, const std::vector<uint16_t>& out, const char* what) {
  const double scale = kAttnScaleV4;
  const int64_t blocks = (k.K + kAttnBlock - 1) / kAttnBlock;
  int64_t inexact = 0;
  for (int64_t t = 0; t < k.T; ++t)
    for (int64_t h = 0; h < k.H; ++h) {
      std::vector<double> z(k.N);
      double zmax = -1e300, delta = 0;
      for (int64_t j = 0; j < k.N; ++j) {
        double dot = 0, absdot = 0;
        for (int64_t d = 0; d < k.c; ++d) {
          const double a = bf16_decode(k.q[(t * k.H + h) * k.c + d]), b = bf16_decode(k.kv[j * k.c + d]);
          dot += a * b;
          absdot += std::fabs(a * b);
        }
        z[j] = dot * scale;
        zmax = std::max(zmax, z[j]);
        delta = std::max(delta, scale * double(k.c) * 0x1p-24 * absdot + 0x1p-24 * std::fabs(z[j]));
      }
      double den = std::exp(double(k.sink[h]) - zmax), zspread = 0;
      for (int64_t j = 0; j < k.N; ++j) {
        den += std::exp(z[j] - zmax);
        zspread = std::max(zspread, zmax - z[j]);
      }
      delta += 0x1p-24 * (zspread + 2.0);
      for (int64_t d = 0; d < k.c; ++d) {
        double ref = 0, s1 = 0;
        for (int64_t j = 0; j < k.N; ++j) {
          const double w = std::exp(z[j] - zmax) / den, v = bf16_decode(k.kv[j * k.c + d]);
          ref += w * v;
          s1 += w * std::fabs(v);
        }
        const double E = 1.05 * s1 * (0x1p-8 + 2 * delta + double(2 * k.K + 2 * blocks + 4) * 0x1p-24) + 0x1p-120;
        const float got = bf16_decode(out[(t * k.H + h) * k.c + d]);
        ASSERT_TRUE(got >= bf16_round(float(ref - E)) && got <= bf16_round(float(ref + E)))
            << what << ": query " << t << " head " << h << " dim " << d << ": got " << got << ", dense double " << ref
            << " ± " << E;
        inexact += got != bf16_round(float(ref));
      }
    }
  ::testing::Test::RecordProperty(std::string(what) + "_outputs_not_equal_to_rounded_dense", int(inexact));
}

}  // namespace

TEST(SparseAttention, EqualsDenseSoftmaxWithSinkInDouble) {
  const Case k = make_case(6, 5, 192, 150, 1);
  ASSERT_GT(k.K, 3 * kAttnBlock);  // several blocks, one fully masked
  expect_dense(k, run(k, Recipe::canonical), "canonical");
  expect_dense(k, run(k, Recipe::exact), "exact");
}

TEST(SparseAttention, HopperEqualsDenseSoftmaxWithSinkInDouble) {
  const Case k = make_case(2, 3, 128, 100, 2);  // the wgmma model is slow: a small case
  expect_dense(k, run(k, Recipe::hopper), "hopper");
}

TEST(SparseAttention, ListStartingWithMaskedBlockStillEqualsDense) {
  Case k = make_case(3, 2, 64, 40, 3);
  std::vector<int32_t> idx;
  const int64_t K2 = k.K + 64;
  for (int64_t t = 0; t < k.T; ++t) {
    for (int u = 0; u < 64; ++u) idx.push_back(-1);
    idx.insert(idx.end(), k.idx.begin() + t * k.K, k.idx.begin() + (t + 1) * k.K);
  }
  k.idx = idx;
  k.K = K2;
  expect_dense(k, run(k, Recipe::canonical), "leading masked block");
}

// One block, H = 1, c = 64, scale 1, q = e0: the logit of key j is kv[j][0] exactly. Keys: z = 0, -0.5, -1,
// with one-hot values in dims 1, 2, 3. Spec: p = (1, e^-0.5, e^-1) in fp32 (exp correctly rounded),
// l = ((1 + p1) + p2) + e^(sink - 0), out[1 + j] = bf16(bf16(p_j) / l).
TEST(SparseAttention, HandDerivedRoundingPoints) {
  const int64_t c = 64;
  std::vector<uint16_t> q(c, 0), kv(3 * c, 0);
  q[0] = bf16_encode(1.0f);
  const float zs[3] = {0.0f, -0.5f, -1.0f};
  for (int j = 0; j < 3; ++j) {
    kv[j * c] = bf16_encode(zs[j]);
    kv[j * c + 1 + j] = bf16_encode(1.0f);
  }
  const std::vector<int32_t> idx = {0, 1, 2, -1};
  float p[3], pb[3];
  for (int j = 0; j < 3; ++j) {
    p[j] = float(std::exp(double(zs[j])));  // correctly rounded exp of an exact argument
    pb[j] = bf16_round(p[j]);
  }
  int discriminating_p = 0, discriminating_sink = 0;
  for (float sink : {-3.0f, -1.5f, -0.25f, 0.5f, 1.0f, 2.0f, 3.5f}) {
    std::vector<uint16_t> out(c);
    sparse_attention(q.data(), kv.data(), 3, idx.data(), 1, 4, 1, c, &sink, 1.0f, Recipe::canonical, out.data());
    const float l = ((1.0f + p[1]) + p[2]) + float(std::exp(double(sink)));
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ(out[1 + j], bf16_encode(pb[j] / l)) << "sink " << sink << " key " << j;
      discriminating_p += bf16_encode(p[j] / l) != bf16_encode(pb[j] / l);  // unrounded P would differ here
    }
    if (sink > 0.0f) {  // a sink inside the max would rescale every p by e^-sink before the bf16 rounding
      const float m = sink;
      float pm[3], lm = 0.0f;
      for (int j = 0; j < 3; ++j) lm += (pm[j] = float(std::exp(double(zs[j] - m))));
      lm += 1.0f;
      for (int j = 0; j < 3; ++j) discriminating_sink += bf16_encode(bf16_round(pm[j]) / lm) != out[1 + j];
    }
    // sink in the numerator too (a zero-value key that also pulls nothing) is the same; a sink left out
    // of the denominator is not:
    EXPECT_NE(out[1], bf16_encode(pb[0] / ((1.0f + p[1]) + p[2]))) << "sink " << sink;
  }
  EXPECT_GT(discriminating_p, 0) << "the case must separate bf16 P from fp32 P";
  EXPECT_GT(discriminating_sink, 0) << "the case must separate the sink-outside-the-max rule";
}

TEST(SparseAttention, TrailingMaskedEntriesChangeNoBit) {
  // Appending -1 entries (partial and whole blocks) after the valid part of every list changes no bit:
  // this is what makes a decode list (window width win, then the compressed part) equal a prefill row.
  Case k = make_case(4, 3, 128, 90, 4);
  const auto ref = run(k, Recipe::canonical);
  std::vector<int32_t> idx;
  const int64_t K2 = k.K + 100;
  for (int64_t t = 0; t < k.T; ++t) {
    idx.insert(idx.end(), k.idx.begin() + t * k.K, k.idx.begin() + (t + 1) * k.K);
    for (int u = 0; u < 100; ++u) idx.push_back(-1);
  }
  k.idx = idx;
  k.K = K2;
  EXPECT_EQ(run(k, Recipe::canonical), ref);
}

TEST(SparseAttention, DeterministicAcrossThreadsAndBatchInvariant) {
  const Case k = make_case(9, 4, 128, 80, 5);
  omp_set_num_threads(1);
  const auto ref = run(k, Recipe::canonical);
  omp_set_num_threads(3);
  EXPECT_EQ(run(k, Recipe::canonical), ref);
  // Queries 4..6 alone give the same rows.
  Case sub = k;
  sub.T = 3;
  sub.q.assign(k.q.begin() + 4 * k.H * k.c, k.q.begin() + 7 * k.H * k.c);
  sub.idx.assign(k.idx.begin() + 4 * k.K, k.idx.begin() + 7 * k.K);
  const auto part = run(sub, Recipe::canonical);
  EXPECT_TRUE(std::equal(part.begin(), part.end(), ref.begin() + 4 * k.H * k.c));
  omp_set_num_threads(omp_get_num_procs());
}

TEST(SparseAttention, DerotateIsTheInverseRopeAtTheQueryPosition) {
  const Case k = make_case(3, 2, 128, 30, 6);
  std::vector<float> cs(100 * 32), sn(100 * 32);
  rope_table(kRopeCompressed, 100, cs.data(), sn.data());
  const RopeTable tab{cs.data(), sn.data(), 100, 32};
  const std::vector<int32_t> pos = {5, 50, 99};
  auto want = run(k, Recipe::canonical);
  rope_apply(want.data(), k.T * k.H, k.c, pos.data(), k.H, tab, true);
  std::vector<uint16_t> got(want.size());
  sparse_attention(k.q.data(), k.kv.data(), k.N, k.idx.data(), k.T, k.K, k.H, k.c, k.sink.data(), kAttnScaleV4,
                   Recipe::canonical, got.data(), &tab, pos.data());
  EXPECT_EQ(got, want);
}

TEST(SparseAttention, RejectsIndicesOutsideTheKvArray) {
  const Case k = make_case(1, 1, 64, 10, 7);
  std::vector<int32_t> idx(k.K, -1);
  idx[3] = 10;
  std::vector<uint16_t> out(64);
  EXPECT_THROW(sparse_attention(k.q.data(), k.kv.data(), k.N, idx.data(), 1, k.K, 1, 64, k.sink.data(), kAttnScaleV4,
                                Recipe::canonical, out.data()),
               std::invalid_argument);
}
