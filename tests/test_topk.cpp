// topk_select against an independent oracle: a stable sort of all indices by descending score (stable
// sort keeps ascending index among equal scores), with NaN placed first, then the first k. Exhaustive
// over small value alphabets full of ties, ±0, ±inf and NaN.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "reference/topk.h"

using namespace v4;

namespace {

std::vector<int32_t> oracle(const std::vector<float>& s, int64_t k) {
  std::vector<int32_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), 0);
  auto key = [&](int32_t i) { return std::isnan(s[i]) ? std::numeric_limits<double>::infinity() * 2 : double(s[i]); };
  // NaN first: map NaN to a key above +inf by sorting on (is_nan, value).
  std::stable_sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
    const bool na = std::isnan(s[a]), nb = std::isnan(s[b]);
    if (na != nb) return na;
    if (na) return false;
    return key(a) > key(b);
  });
  idx.resize(k);
  return idx;
}

std::vector<int32_t> run(const std::vector<float>& s, int64_t k) {
  std::vector<int32_t> out(k, -7);
  topk_select(s.data(), int64_t(s.size()), k, out.data());
  return out;
}

}  // namespace

TEST(Topk, ExhaustiveOverTieHeavyAlphabets) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  const float alphabet[] = {0.0f, -0.0f, 1.0f, -1.0f, inf, -inf, nan};
  const int A = 7, n = 6;
  int64_t cases = 0;
  std::vector<float> s(n);
  for (int code = 0; code < 117649; ++code) {  // 7^6: every vector of length 6 over the alphabet
    int c = code;
    for (int i = 0; i < n; ++i, c /= A) s[i] = alphabet[c % A];
    for (int64_t k = 0; k <= n; ++k) {
      ASSERT_EQ(run(s, k), oracle(s, k)) << "case " << code << " k " << k;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 117649 * 7);
}

TEST(Topk, RandomLongRowsWithTies) {
  std::mt19937 g(1);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t n = 1 + g() % 300, k = g() % (n + 1);
    std::vector<float> s(n);
    for (auto& v : s) v = float(int(g() % 9) - 4) * 0.5f;  // many exact ties
    ASSERT_EQ(run(s, k), oracle(s, k)) << "trial " << trial;
  }
}

TEST(Topk, LargerScoreFirstThenSmallerIndex) {
  const std::vector<float> s = {1.0f, 3.0f, 3.0f, -0.0f, 0.0f, 2.0f};
  EXPECT_EQ(run(s, 6), (std::vector<int32_t>{1, 2, 5, 0, 3, 4}));  // -0 == +0: index 3 before 4
}
