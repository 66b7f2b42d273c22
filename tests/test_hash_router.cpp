// hash_router: the selection is the table row of the token, whatever the scores (two different gate
// weight matrices give the same indices); the weights are the double-precision renormalization of the
// scores at those indices within the bound of MoeGate's check; bad tables are refused.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/hash_router.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

namespace {

struct Router {
  int64_t T = 9, d = 64, E = 32, V = 50;
  int k = kMoeTopK;
  std::vector<uint16_t> x, w;
  std::vector<int32_t> ids, table, idx;
  std::vector<float> weights, scores;
  void run() {
    weights.assign(T * k, 0.0f);
    idx.assign(T * k, -1);
    scores.assign(T * E, 0.0f);
    hash_router(x.data(), w.data(), ids.data(), table.data(), V, T, d, E, k, kRouteScaleFlash, Recipe::canonical,
                weights.data(), idx.data(), scores.data());
  }
};

Router make(uint32_t seed) {
  Router r;
  r.x = normal_bf16(size_t(r.T * r.d), 1.0f, seed);
  r.w = normal_bf16(size_t(r.E * r.d), 0.2f, seed + 1);
  std::mt19937 g(seed + 2);
  r.table.resize(r.V * r.k);
  for (int64_t v = 0; v < r.V; ++v)  // k distinct experts per vocabulary entry, in a random order
    for (int j = 0; j < r.k; ++j) {
      int32_t e;
      bool dup;
      do {
        e = int32_t(g() % uint32_t(r.E));
        dup = false;
        for (int i = 0; i < j; ++i) dup |= r.table[v * r.k + i] == e;
      } while (dup);
      r.table[v * r.k + j] = e;
    }
  r.ids.resize(r.T);
  for (auto& id : r.ids) id = int32_t(g() % uint32_t(r.V));
  r.ids[3] = r.ids[5];  // a repeated token
  return r;
}

}  // namespace

TEST(HashRouter, SelectsTheTableRowWhateverTheScores) {
  Router r = make(1);
  r.run();
  const std::vector<int32_t> first = r.idx;
  for (int64_t t = 0; t < r.T; ++t)
    for (int j = 0; j < r.k; ++j) EXPECT_EQ(r.idx[t * r.k + j], r.table[r.ids[t] * r.k + j]);
  r.w = normal_bf16(r.w.size(), 3.0f, 99);  // entirely different scores
  r.run();
  EXPECT_EQ(r.idx, first);
}

TEST(HashRouter, WeightsRenormalizeTheScoresOfTheTableRow) {
  Router r = make(2);
  r.run();
  for (int64_t t = 0; t < r.T; ++t) {
    double sum = 0;
    for (int j = 0; j < r.k; ++j) sum += r.scores[t * r.E + r.idx[t * r.k + j]];
    for (int j = 0; j < r.k; ++j) {
      const double exact = kRouteScaleFlash * r.scores[t * r.E + r.idx[t * r.k + j]] / sum;
      EXPECT_LE(std::abs(r.weights[t * r.k + j] - exact), (dot_gamma(r.k - 1) + 2 * kU32) * 1.001 * exact);
    }
  }
  // Equal token ids get equal routing when their activations are equal.
  EXPECT_EQ(r.idx[3 * r.k], r.idx[5 * r.k]);
}

TEST(HashRouter, RefusesBadTables) {
  Router r = make(3);
  r.ids[0] = int32_t(r.V);
  EXPECT_THROW(r.run(), std::invalid_argument);
  r = make(3);
  r.table[r.ids[0] * r.k + 2] = int32_t(r.E);
  EXPECT_THROW(r.run(), std::invalid_argument);
  r = make(3);
  r.table[r.ids[0] * r.k + 1] = r.table[r.ids[0] * r.k];
  EXPECT_THROW(r.run(), std::invalid_argument);
}
