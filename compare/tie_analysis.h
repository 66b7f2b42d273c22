// Tie analysis of the comparator (internal to compare/): whether a difference between golden and
// candidate is one the golden's own data explains as a tie, so a policy can tell tie flips from real
// mismatches (docs/compare.md §Metrics).
//   Index ties: a top-k index tensor (kind = topk_indices) and its `scores`; a differing row is a tie
//     flip when every swapped index carries the boundary score and every reordered pair equal scores.
//   Quant ties: a quantized tensor (bf16/fp8/fp4 with `scale` or `source`); a code flip is a tie flip
//     when the two codes are adjacent and the golden's pre-rounding value fp32(source / scale) sits
//     exactly on their midpoint.
// Both read the golden's linked datasets only for the ranges that differ, through stream.h.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compare/compare.h"
#include "compare/stream.h"

namespace v4::compare {

// One index tensor [..., k]: accumulates IndexStats over its differing rows.
class IndexTies {
 public:
  // `scores` is the golden's scores dataset (validated: f32/bf16, same leading dims as `shape`).
  IndexTies(const OpenFile& golden, const std::string& scores, const std::vector<int64_t>& shape, int64_t chunk_bytes);
  int64_t k() const { return stats_.k; }
  // Rows [r0, r0 + nrows) of golden (ga) and candidate (cb) index buffers of format f (i32/i64).
  void add(Fmt f, int64_t r0, int64_t nrows, const uint8_t* ga, const uint8_t* cb);
  const IndexStats& stats() const { return stats_; }

 private:
  PlannedSource scores_;
  int64_t n_ = 0;  // scores per row
  IndexStats stats_;
};

// Whether a dataset is analysed as a quantized tensor: a rounded format with a scale or a source.
bool is_quantized(const golden::TensorInfo& info, const golden::TensorLinks& links);

// One quantized tensor: accumulates QuantStats over its code flips.
class QuantTies {
 public:
  QuantTies(const OpenFile& golden, const golden::TensorInfo& info, const golden::TensorLinks& links,
            int64_t chunk_bytes);
  // Elements [e0, e1) of golden (ga) and candidate (cb) buffers of format f, read per `plan`.
  void add(Fmt f, const ChunkPlan& plan, int64_t e0, int64_t e1, const uint8_t* ga, const uint8_t* cb);
  const QuantStats& stats() const { return stats_; }

 private:
  int64_t scale_index(int64_t e) const;  // flat index into the scale tensor of flat element e
  std::optional<PlannedSource> source_;  // golden's pre-rounding values (f32/bf16), same shape
  std::optional<PlannedSource> scale_;   // golden's scale (ue8m0/f32/bf16), only with a source
  std::vector<int64_t> shape_, block_, scale_shape_;
  QuantStats stats_;
};

// Each quantized tensor's scale: the mismatch count and max distance of the scale dataset's own result
// (same run), when that dataset was compared.
void attach_scale_mismatches(std::vector<TensorResult>& tensors);

}  // namespace v4::compare
