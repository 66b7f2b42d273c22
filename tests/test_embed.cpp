// embed: every stream of every token is the token's table row, bit for bit (the definition: a gather
// and a copy); generated rows equal the rows of a fully generated table (so a row produced alone equals
// the same row produced with all others); bad ids refused.
#include <gtest/gtest.h>

#include <vector>

#include "reference/embed.h"
#include "reference/weights.h"
#include "tests/support/moe_support.h"

using namespace v4;
using namespace v4::testsupport;

TEST(Embed, EveryStreamIsTheTableRow) {
  const int64_t V = 50, d = 40, T = 7;
  const int n = 4;
  const auto table = normal_bf16(size_t(V * d), 1.0f, 1);
  const std::vector<int32_t> ids = {0, 49, 3, 3, 17, 0, 25};
  std::vector<uint16_t> R(T * n * d);
  embed(table.data(), V, d, ids.data(), T, n, R.data());
  for (int64_t t = 0; t < T; ++t)
    for (int k = 0; k < n; ++k)
      for (int64_t i = 0; i < d; ++i) ASSERT_EQ(R[(t * n + k) * d + i], table[ids[t] * d + i]) << t << " " << k << " " << i;
}

TEST(Embed, GeneratedRowsAreTheRowsOfTheGeneratedTable) {
  const int64_t V = 300, d = 64, T = 5;
  const int n = 4;
  std::vector<uint16_t> table(V * d);
  weights_bf16({77, -1, -1}, "embed.weight", V * d, kEmbedExp, table.data());
  const std::vector<int32_t> ids = {299, 0, 150, 150, 7};
  std::vector<uint16_t> a(T * n * d), b(T * n * d);
  embed(table.data(), V, d, ids.data(), T, n, a.data());
  embed_generated(77, V, d, ids.data(), T, n, b.data());
  EXPECT_TRUE(same_bits(a, b, "generated rows"));
}

TEST(Embed, RefusesIdsOutsideTheVocabulary) {
  const std::vector<uint16_t> table(10 * 8, 0);
  std::vector<uint16_t> R(4 * 8);
  const int32_t bad[2] = {10, -1};
  for (int32_t id : bad) EXPECT_THROW(embed(table.data(), 10, 8, &id, 1, 4, R.data()), std::invalid_argument);
  EXPECT_THROW(embed_generated(1, 10, 8, bad, 1, 4, R.data()), std::invalid_argument);
}
