// moe_combine: the fp32 sum runs in ascending expert id (a case whose answer differs in top-k order),
// then the shared expert, then one bf16 rounding; random cases against double precision within the
// bound of a (k+1)-term fp32 sum; duplicate experts refused.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "reference/moe_combine.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

// Top-k order [9, 2, 5] with outputs y_9 = -2^25, y_2 = 2^25, y_5 = 1 (all exact in bf16).
// Ascending id (2, 5, 9): (2^25 + 1) rounds to 2^25 in fp32 (ulp 4), minus 2^25 -> 0.
// Top-k order (9, 2, 5): (-2^25 + 2^25) + 1 = 1. The release's loop gives 0.
TEST(MoeCombine, SumsInAscendingExpertIdNotTopkOrder) {
  const int k = 3;
  const int64_t d = 1;
  const std::vector<int32_t> idx = {9, 2, 5};
  const std::vector<uint16_t> y = {bf16_encode(-0x1p25f), bf16_encode(0x1p25f), bf16_encode(1.0f)};
  const std::vector<uint16_t> shared = {bf16_encode(0.0f)};
  std::vector<uint16_t> out(1);
  moe_combine(y.data(), idx.data(), shared.data(), 1, k, d, out.data());
  EXPECT_EQ(bf(out[0]), 0.0);
  // The shared expert comes last: with shared = 1 the ascending sum is 0 + 1 = 1 (shared first would
  // give ((1 + 2^25) + 1) - 2^25 = 0).
  const std::vector<uint16_t> shared1 = {bf16_encode(1.0f)};
  moe_combine(y.data(), idx.data(), shared1.data(), 1, k, d, out.data());
  EXPECT_EQ(bf(out[0]), 1.0);
}

TEST(MoeCombine, MatchesDoublePrecisionWithinTheSumBound) {
  const int64_t T = 11, d = 300;
  const int k = 6;
  std::mt19937 g(5);
  std::vector<int32_t> idx(T * k);
  for (int64_t t = 0; t < T; ++t)
    for (int j = 0; j < k; ++j) idx[t * k + j] = int32_t(40 * j + g() % 40);  // distinct
  const auto y = normal_bf16(size_t(T * k * d), 1.0f, 6), sh = normal_bf16(size_t(T * d), 1.0f, 7);
  std::vector<uint16_t> out(T * d);
  moe_combine(y.data(), idx.data(), sh.data(), T, k, d, out.data());
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < d; ++i) {
      double e = bf(sh[t * d + i]), mag = std::abs(e);
      for (int j = 0; j < k; ++j) {
        e += bf(y[(t * k + j) * d + i]);
        mag += std::abs(bf(y[(t * k + j) * d + i]));
      }
      ASSERT_TRUE(bf16_within(out[t * d + i], e, dot_gamma(k) * mag)) << "token " << t << " i " << i;
    }
}

TEST(MoeCombine, RefusesADuplicateExpert) {
  const std::vector<int32_t> idx = {4, 1, 4};
  const std::vector<uint16_t> y(3, 0);
  std::vector<uint16_t> out(1);
  EXPECT_THROW(moe_combine(y.data(), idx.data(), nullptr, 1, 3, 1, out.data()), std::invalid_argument);
}
