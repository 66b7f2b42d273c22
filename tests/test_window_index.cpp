// window_index against independent derivations: a simulated ring buffer (positions written to slot
// pos mod win) read back through the decode list must give the prefill row's positions in the same
// order; visibility as a property over many (t, r): every listed compressed entry's block ends at or
// before the query, and every such entry is listed.
#include <gtest/gtest.h>

#include <vector>

#include "reference/window_index.h"

using namespace v4;

TEST(WindowIndex, PrefillRowsAreTheLastWinPositions) {
  const int64_t win = 8;
  for (int64_t s : {1, 5, 8, 9, 30}) {
    const int64_t w = window_index_prefill_width(s, win);
    EXPECT_EQ(w, std::min(s, win));
    std::vector<int32_t> idx(s * w);
    window_index_prefill(s, win, idx.data());
    for (int64_t t = 0; t < s; ++t) {
      std::vector<int32_t> want;
      for (int64_t q = std::max<int64_t>(0, t - win + 1); q <= t; ++q) want.push_back(int32_t(q));
      while (int64_t(want.size()) < w) want.push_back(-1);
      EXPECT_EQ(std::vector<int32_t>(idx.begin() + t * w, idx.begin() + (t + 1) * w), want) << "s " << s << " t " << t;
    }
  }
  // The spec's own example (win 128): row 200 of a long prefill starts at 73; row 5 is [0..5, -1 ...].
  std::vector<int32_t> idx(300 * 128);
  window_index_prefill(300, 128, idx.data());
  EXPECT_EQ(idx[200 * 128], 73);
  EXPECT_EQ(idx[200 * 128 + 127], 200);
  EXPECT_EQ(idx[5 * 128 + 5], 5);
  EXPECT_EQ(idx[5 * 128 + 6], -1);
}

TEST(WindowIndex, DecodeRingSlotsReadTheSamePositionsInTheSameOrder) {
  for (int64_t win : {1, 4, 8, 128}) {
    std::vector<int64_t> ring(win, -1);  // slot -> position stored there
    for (int64_t p = 0; p < 3 * win + 5; ++p) {
      ring[p % win] = p;  // the decode step writes its own kv first
      std::vector<int32_t> slots(win);
      window_index_decode(p, win, slots.data());
      std::vector<int64_t> got;
      for (int32_t s : slots) got.push_back(s < 0 ? -1 : ring[s]);
      std::vector<int64_t> want;
      for (int64_t q = std::max<int64_t>(0, p - win + 1); q <= p; ++q) want.push_back(q);
      while (int64_t(want.size()) < win) want.push_back(-1);
      ASSERT_EQ(got, want) << "win " << win << " p " << p;
    }
  }
}

TEST(WindowIndex, VisibilityPropertyOverManyTAndR) {
  for (int64_t r : {1, 2, 3, 4, 7, 8, 128}) {
    for (int64_t s : {1, 3, 4, 5, 17, 130, 300}) {
      const int64_t w = compressed_index_prefill_width(s, r);
      std::vector<int32_t> idx(s * w);
      const int64_t offset = s;
      compressed_index_prefill(s, r, offset, idx.data());
      for (int64_t t = 0; t < s; ++t) {
        int64_t listed = 0;
        for (int64_t j = 0; j < w; ++j) {
          const int32_t e = idx[t * w + j];
          if (e < 0) continue;
          const int64_t i = e - offset;
          ASSERT_EQ(i, j) << "ascending entries";
          ASSERT_LE(r * i + r - 1, t) << "query " << t << " sees entry " << i << " whose block ends after it (r " << r << ")";
          ++listed;
        }
        int64_t complete = 0;  // blocks [r·i, r·i + r - 1] with r·i + r - 1 <= t, counted by enumeration
        for (int64_t i = 0; r * i + r - 1 <= t; ++i) ++complete;
        ASSERT_EQ(listed, complete) << "query " << t << " r " << r;
        // decode at p = t lists the same entries, with the decode offset
        std::vector<int32_t> d(compressed_index_decode_width(t, r));
        compressed_index_decode(t, r, 128, d.data());
        ASSERT_EQ(int64_t(d.size()), complete);
        for (int64_t i = 0; i < complete; ++i) ASSERT_EQ(d[i], i + 128);
      }
    }
  }
}

TEST(WindowIndex, BlockEndingAtTheQueryCounts) {
  // r = 4: the block of tokens 0..3 is complete at t = 3 (its own last token), not at t = 2.
  EXPECT_EQ(compressed_visible(2, 4), 0);
  EXPECT_EQ(compressed_visible(3, 4), 1);
  EXPECT_EQ(compressed_visible(127, 128), 1);
  EXPECT_EQ(compressed_visible(126, 128), 0);
}
