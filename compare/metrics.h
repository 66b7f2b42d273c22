// Format-aware element metrics of the comparator (docs/compare.md §Metrics). Every stored element is
// read as an Elem: its raw bits, its class (finite / NaN / +inf / -inf), an ordered integer key whose
// difference is the distance in the format's own steps (bf16 ULPs for bf16, code steps for e4m3/e5m2/
// e2m1, exponent steps for ue8m0, integer difference for i32/i64), and its decoded value.
// TensorStats accumulate over flat element ranges with a fixed summation structure (8 lanes by flat
// index mod 8 inside each global sub-block of kSubBlock elements; sub-blocks summed in order), so every
// number is identical for any chunking of the tensor and any OpenMP thread count.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "golden/tensor_io.h"

namespace v4::compare {


enum class Cls : uint8_t { finite, nan, pos_inf, neg_inf };

struct Elem {
  uint64_t bits = 0;
  Cls cls = Cls::finite;
  int64_t key = 0;  // ordered: key(b) - key(a) = signed distance in the format's steps (±0 -> 0)
  double value = 0;
};

// Element `j` of a buffer holding a range of a tensor's stored bytes. For e2m1x2, `row_len` is the
// logical last dim when the range starts on a row and rows carry a padding nibble (odd last dim, rank
// >= 2); 0 when nibbles are packed back to back (even last dim, or rank <= 1; the range starts even).
Elem elem_read(Fmt f, const uint8_t* buf, int64_t j, int64_t row_len = 0);
// The element whose stored bits (low bits of `bits`, as ElemRef holds them) are given.
Elem elem_from_bits(Fmt f, uint64_t bits);

// "0x3f80", "0x7e", "0x5" (e2m1: one nibble), width by format.
std::string bits_hex(Fmt f, uint64_t bits);
// Decoded value as text: "%.9g" for floats ("nan", "inf", "-inf"), decimal for integers.
std::string elem_value_text(Fmt f, const Elem& e);
// Distance between two elements in the format's steps; only meaningful when neither is NaN.
uint64_t elem_steps(const Elem& a, const Elem& b);
// Unit of elem_steps for a format: "ulp (bf16)", "code steps (e4m3fn)", "exponent steps (ue8m0)", ...
std::string steps_unit(Fmt f);

inline constexpr int kUlpBuckets = 65;  // bucket 0: 0 steps; bucket b >= 1: [2^(b-1), 2^b) steps
inline constexpr int64_t kSubBlock = 1 << 16;
inline constexpr size_t kTopN = 10;  // worst elements listed per tensor
int ulp_bucket(uint64_t steps);

// A located element: flat index (C order over the logical shape), both bit patterns, distance.
struct ElemRef {
  int64_t index = -1;  // -1: none
  uint64_t a_bits = 0, b_bits = 0;
  uint64_t steps = 0;
  bool steps_valid = false;  // false when either side is NaN or the classes differ
};

// Sums of one global sub-block in 8 lanes (flat index mod 8).
struct LaneSums {
  std::array<double, 8> d2{}, a2{}, b2{}, ab{}, ae{}, re{};  // ae: |a-b|; re: |a-b|/|a| where a != 0
  void fold_into(double& d2s, double& a2s, double& b2s, double& abs_) const;  // fixed tree per sum
  void fold_err_into(double& aes, double& res) const;                          // same tree
};

struct TensorStats {
  int64_t n = 0;          // elements compared
  int64_t bit_equal = 0;  // stored bits identical
  int64_t nan_a = 0, nan_b = 0, inf_a = 0, inf_b = 0;
  int64_t nan_both = 0;            // NaN on both sides (bits may differ)
  int64_t nan_bits_differ = 0;     // of those, how many with different payload/sign bits
  int64_t nonfinite_mismatch = 0;  // classes differ (NaN vs number, inf vs finite, +inf vs -inf)
  uint64_t max_steps = 0;
  std::array<int64_t, kUlpBuckets> steps_hist{};
  double max_abs = 0, max_rel = 0;  // over pairs both finite; max_rel is inf when golden is 0 and candidate not
  double sum_d2 = 0, sum_a2 = 0, sum_b2 = 0, sum_ab = 0;  // over pairs both finite
  double sum_abs_err = 0, sum_rel_err = 0;  // Σ|a-b| over pairs both finite; Σ|a-b|/|a| over those with a != 0
  int64_t n_finite = 0, n_rel = 0;           // pairs both finite; of those, golden != 0
  // Quantiles of |a-b| over the n_finite pairs and of |a-b|/|a| over the n_rel pairs (ErrorQuantiles:
  // the upper edge of a bucket at most 2^-7 wide in relative terms); 0 for a bit-identical tensor.
  double median_abs = 0, p99_abs = 0, median_rel = 0, p99_rel = 0;
  ElemRef first_diff;    // first element whose bits differ
  ElemRef worst;         // largest distance (NaN/class mismatches first), earliest on ties
  ElemRef first_over;    // first element over the per-element budget (see accumulate)
  std::vector<ElemRef> top;  // the kTopN largest distances (class mismatches first), earliest first among equals
  int64_t over_count = 0;

  double nmse() const;       // sum_d2 / sum_a2 (0 when both 0; inf when only sum_a2 is 0)
  double calc_diff() const;  // 1 - 2 Σab / Σ(a²+b²), DeepGEMM's calc_diff, in double (0 when both sums 0)
  double cosine() const;     // Σab / sqrt(Σa² Σb²); 1 when both sums are 0, 0 when only one is
  double mean_abs_err() const { return n_finite ? sum_abs_err / double(n_finite) : 0.0; }
  double mean_rel_err() const { return n_rel ? sum_rel_err / double(n_rel) : 0.0; }
};

// Per-element budget used while streaming: an element is "over" when its classes differ, or (both
// NaN) nan_equal is false and the bits differ, or (else) its distance exceeds max_steps. Bitwise policy:
// max_steps = 0 and nan_equal = false; its "over" set is exactly the bit-differing set except ±0.
struct ElemBudget {
  uint64_t max_steps = UINT64_MAX;
  bool nan_equal = true;
  bool bits_exact = false;  // bitwise: any bit difference (including -0 vs +0) is over
  bool close = false;       // allclose: a finite pair is over when !(|b - a| <= atol + rtol |a|), a the golden
  double atol = 0, rtol = 0;
};

// The mismatch heatmap's cells: a tensor viewed as [rows = product of all dims but the last, cols = last
// dim] (a scalar or 1-D tensor is one row), cut into `cells_r` x `cells_c` bands; element row r falls in
// band r * cells_r / rows (integer division), so band k starts at element row ceil(k * rows / cells_r).
struct GridMap {
  int64_t rows = 1, cols = 1;
  int cells_r = 0, cells_c = 0;
  GridMap() = default;
  GridMap(const std::vector<int64_t>& shape, int max_r, int max_c);
  size_t cell(int64_t flat) const {
    const int64_t r = flat / cols, c = flat % cols;
    return size_t((r * cells_r) / rows) * size_t(cells_c) + size_t((c * cells_c) / cols);
  }
  int64_t row_start(int k) const { return (int64_t(k) * rows + cells_r - 1) / cells_r; }
  int64_t col_start(int k) const { return (int64_t(k) * cols + cells_c - 1) / cells_c; }
};

// Error against the golden's magnitude in bounded memory, for the HTML report's density plot: every pair
// both finite whose values differ is counted in the cell (binade of |golden|, binade of |candidate -
// golden|), a binade being the biased exponent of the value rounded to float32 (cell 0 holds 0 and
// float32 subnormals, 255 what overflows float32). Kept as the bounding box of the non-empty cells.
struct ErrorDensity {
  static constexpr int kBinades = 256;
  int x0 = 0, y0 = 0, nx = 0, ny = 0;  // box: binades [x0, x0 + nx) of |golden|, [y0, y0 + ny) of the error
  std::vector<int64_t> count;          // ny x nx, row y - y0 (error), column x - x0 (golden)
  int64_t zero_err = 0;                // finite pairs with equal values (not drawn)
  int64_t at(int x, int y) const { return count[size_t(y - y0) * size_t(nx) + size_t(x - x0)]; }
};
int binade(double v);  // v >= 0: the biased exponent of float(v)

// Accumulates one tensor, streamed as consecutive flat ranges. Not thread-safe itself; each call
// parallelizes internally over independent sub-blocks and folds their results in order.
// Two modes, because the sums (NMSE, calc_diff) cost far more than a bitwise scan and are only needed
// when something differs: Mode::scan computes everything but the four sums (left 0) -- bit-equal
// pieces cost a memcmp and a NaN/inf count; Mode::sums computes only the sums, over every element, in
// the fixed lane order. The comparator runs sums as a second pass over tensors that differ. A
// bit-identical tensor has NMSE 0 and calc_diff 0 by definition.
class StatsAccumulator {
 public:
  enum class Mode { scan, sums };
  StatsAccumulator(Fmt f, std::vector<int64_t> shape, Mode mode, ElemBudget budget = {}, int grid_rows = 0,
                   int grid_cols = 0);
  // Elements [e0, e0 + n) of the tensor; a and b hold their stored bytes (see elem_read for row_len).
  void add(int64_t e0, int64_t n, const uint8_t* a, const uint8_t* b, int64_t row_len);
  TensorStats finish();
  // Mismatch heatmap over a [rows, last dim] view of the tensor, downsampled to grid_rows x grid_cols
  // (GridMap): count of bit-differing elements and max distance per cell (UINT64_MAX: a NaN/inf class
  // mismatch; 0: only bits differ, as -0 against +0 or NaN payloads).
  const std::vector<int64_t>& grid_count() const { return grid_count_; }
  const std::vector<uint64_t>& grid_max() const { return grid_max_; }
  int grid_rows() const { return grid_.cells_r; }
  int grid_cols() const { return grid_.cells_c; }

 private:
  struct Partial;
  Fmt fmt_;
  std::vector<int64_t> shape_;
  int64_t numel_ = 1;
  Mode mode_;
  ElemBudget budget_;
  TensorStats total_;
  LaneSums carry_;  // the sub-block straddling the previous range's end
  GridMap grid_;
  std::vector<int64_t> grid_count_;
  std::vector<uint64_t> grid_max_;
};

// Median and p99 of the abs and rel errors of one tensor in bounded memory: each non-zero error, rounded
// to float32, is counted in the bucket of its top 16 bits (sign 0, 8 exponent and 7 mantissa bits:
// buckets at most 2^-7 wide relative to their value); a quantile is reported as the upper edge of the
// bucket holding it, so it overestimates the exact quantile by at most 2^-7 (0.8%) relative (plus the
// float32 rounding, 2^-24); errors of exactly 0 are counted apart and a quantile among them is 0.
// Serial, order-independent (counts only).
class ErrorQuantiles {
 public:
  ErrorQuantiles();
  void add(Fmt f, const uint8_t* a, const uint8_t* b, int64_t n, int64_t row_len);
  void fill(TensorStats& s) const;
  ErrorDensity density() const;  // the same pairs' error against |golden| (ErrorDensity)

 private:
  static constexpr int kBuckets = 1 << 16;
  std::vector<int64_t> abs_, rel_;
  std::vector<int64_t> density_;  // kBinades x kBinades, [error binade][golden binade]
  int64_t n_abs_ = 0, n_rel_ = 0, zeros_abs_ = 0, zeros_rel_ = 0;
};

// Flat index -> coordinates "[i, j, k]" over a logical shape.
std::string coords_text(const std::vector<int64_t>& shape, int64_t flat);
std::vector<int64_t> coords_of(const std::vector<int64_t>& shape, int64_t flat);

}  // namespace v4::compare
