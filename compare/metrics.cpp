// Format-aware element metrics: see metrics.h. Decoded values come from reference/formats.h (the one
// definition of every format). The per-range work splits at global multiples of kSubBlock into pieces
// that OpenMP computes independently; pieces are folded in index order, so results do not depend on the
// thread count or on how the caller chunks the tensor.
#include "compare/metrics.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "reference/formats.h"

namespace v4::compare {

namespace {

inline int64_t signed_mag(bool neg, uint64_t mag) { return neg ? -int64_t(mag) : int64_t(mag); }

// A sign-magnitude float with infinities (f32, bf16, e5m2): magnitude inf_mag is ±inf, anything above
// it NaN; the key orders by signed magnitude.
inline void sign_mag_with_inf(Elem& e, uint64_t bits, bool neg, uint32_t mag, uint32_t inf_mag) {
  e.bits = bits;
  e.cls = mag > inf_mag ? Cls::nan : mag == inf_mag ? (neg ? Cls::neg_inf : Cls::pos_inf) : Cls::finite;
  e.key = signed_mag(neg, mag);
}

template <Fmt F>
inline Elem elem_read_t(const uint8_t* buf, int64_t j, int64_t row_len) {
  Elem e;
  if constexpr (F == Fmt::f32) {
    uint32_t u;
    std::memcpy(&u, buf + 4 * j, 4);
    sign_mag_with_inf(e, u, u >> 31, u & 0x7FFFFFFFu, 0x7F800000u);
    e.value = double(f32_from_bits(u));
  } else if constexpr (F == Fmt::bf16) {
    uint16_t u;
    std::memcpy(&u, buf + 2 * j, 2);
    sign_mag_with_inf(e, u, u >> 15, u & 0x7FFFu, 0x7F80u);
    e.value = double(bf16_decode(u));
  } else if constexpr (F == Fmt::e4m3fn) {
    const uint8_t c = buf[j];
    e.bits = c;
    e.cls = (c & 0x7F) == kE4M3NaN ? Cls::nan : Cls::finite;
    e.key = signed_mag(c >> 7, c & 0x7Fu);
    e.value = double(fp8_e4m3_decode(c));
  } else if constexpr (F == Fmt::e5m2) {
    const uint8_t c = buf[j];
    sign_mag_with_inf(e, c, c >> 7, c & 0x7Fu, kE5M2Inf);
    e.value = double(fp8_e5m2_decode(c));
  } else if constexpr (F == Fmt::e2m1x2) {
    // Rows of row_len elements each start on a byte (row_len <= 0: one unpadded run).
    const uint8_t n = row_len > 0 ? fp4_e2m1_get(buf + (j / row_len) * fp4_e2m1_row_bytes(row_len), j % row_len)
                                  : fp4_e2m1_get(buf, j);
    e.bits = n;
    e.key = signed_mag(n >> 3, n & 7u);
    e.value = double(fp4_e2m1_decode(n));
  } else if constexpr (F == Fmt::ue8m0) {
    const uint8_t c = buf[j];
    e.bits = c;
    e.cls = c == kUE8M0NaN ? Cls::nan : Cls::finite;
    e.key = c;
    e.value = double(ue8m0_decode(c));
  } else if constexpr (F == Fmt::i32) {
    int32_t v;
    std::memcpy(&v, buf + 4 * j, 4);
    e.bits = uint32_t(v);
    e.key = v;
    e.value = double(v);
  } else {
    int64_t v;
    std::memcpy(&v, buf + 8 * j, 8);
    e.bits = uint64_t(v);
    e.key = v;
    e.value = double(v);
  }
  return e;
}

}  // namespace

Elem elem_read(Fmt f, const uint8_t* buf, int64_t j, int64_t row_len) {
  return fmt_visit(f, [&](auto F) { return elem_read_t<decltype(F)::value>(buf, j, row_len); });
}

Elem elem_from_bits(Fmt f, uint64_t bits) {
  uint8_t buf[8];
  std::memcpy(buf, &bits, 8);
  return elem_read(f, buf, 0, 0);
}

std::string bits_hex(Fmt f, uint64_t bits) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%0*llx", int(fmt_info(f).hex_digits), (unsigned long long)bits);
  return buf;
}

std::string elem_value_text(Fmt f, const Elem& e) {
  if (fmt_info(f).kind == FmtKind::integer) return std::to_string(e.key);
  if (e.cls == Cls::nan) return "nan";
  if (e.cls == Cls::pos_inf) return "inf";
  if (e.cls == Cls::neg_inf) return "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", e.value);
  return buf;
}

uint64_t elem_steps(const Elem& a, const Elem& b) {
  const __int128 d = __int128(a.key) - __int128(b.key);
  const __int128 m = d < 0 ? -d : d;
  return m > __int128(UINT64_MAX) ? UINT64_MAX : uint64_t(m);
}

std::string steps_unit(Fmt f) { return fmt_info(f).steps_unit; }

int ulp_bucket(uint64_t steps) { return steps == 0 ? 0 : int(std::bit_width(steps)); }

void LaneSums::fold_into(double& d2s, double& a2s, double& b2s, double& abs_) const {
  const auto tree = [](const std::array<double, 8>& l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  };
  d2s += tree(d2);
  a2s += tree(a2);
  b2s += tree(b2);
  abs_ += tree(ab);
}

void LaneSums::fold_err_into(double& aes, double& res) const {
  const auto tree = [](const std::array<double, 8>& l) {
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
  };
  aes += tree(ae);
  res += tree(re);
}

GridMap::GridMap(const std::vector<int64_t>& shape, int max_r, int max_c) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  cols = shape.empty() ? 1 : std::max<int64_t>(1, shape.back());
  rows = std::max<int64_t>(1, numel / cols);
  cells_r = int(std::min<int64_t>(max_r, rows));
  cells_c = int(std::min<int64_t>(max_c, cols));
}

int binade(double v) { return int(f32_bits(float(v)) >> 23) & 0xFF; }

ErrorQuantiles::ErrorQuantiles()
    : abs_(kBuckets, 0), rel_(kBuckets, 0), density_(size_t(ErrorDensity::kBinades) * ErrorDensity::kBinades, 0) {}

namespace {
// Bucket of a positive error: the top 16 bits of its float32 (finite pairs only; an error too large for
// float32 lands in the inf bucket, whose upper edge reads as NaN bits: reported as inf).
inline int err_bucket(double e) { return int(f32_bits(float(e)) >> 16); }
// Upper edge of a bucket: the lowest value of the next one.
inline double bucket_hi(int k) {
  const float hi = f32_from_bits(uint32_t(k + 1) << 16);
  return std::isnan(hi) ? std::numeric_limits<double>::infinity() : double(hi);
}

double quantile(const std::vector<int64_t>& h, int64_t zeros, int64_t n, double q) {
  if (n == 0) return 0;
  const int64_t rank = std::max<int64_t>(1, int64_t(std::ceil(q * double(n))));  // 1-based
  if (rank <= zeros) return 0;
  int64_t seen = zeros;
  for (size_t k = 0; k < h.size(); ++k)
    if ((seen += h[k]) >= rank) return bucket_hi(int(k));
  return std::numeric_limits<double>::infinity();
}
}  // namespace

void ErrorQuantiles::add(Fmt f, const uint8_t* a, const uint8_t* b, int64_t n, int64_t row_len) {
  for (int64_t j = 0; j < n; ++j) {
    const Elem x = elem_read(f, a, j, row_len), y = elem_read(f, b, j, row_len);
    if (x.cls != Cls::finite || y.cls != Cls::finite) continue;
    const double e = std::fabs(x.value - y.value);
    ++n_abs_;
    if (e == 0) ++zeros_abs_;
    else ++abs_[size_t(err_bucket(e))], ++density_[size_t(binade(e)) * ErrorDensity::kBinades + size_t(binade(std::fabs(x.value)))];
    if (x.value == 0) continue;
    ++n_rel_;
    if (e == 0) ++zeros_rel_; else ++rel_[size_t(err_bucket(e / std::fabs(x.value)))];
  }
}

void ErrorQuantiles::fill(TensorStats& s) const {
  s.median_abs = quantile(abs_, zeros_abs_, n_abs_, 0.5), s.p99_abs = quantile(abs_, zeros_abs_, n_abs_, 0.99);
  s.median_rel = quantile(rel_, zeros_rel_, n_rel_, 0.5), s.p99_rel = quantile(rel_, zeros_rel_, n_rel_, 0.99);
}

ErrorDensity ErrorQuantiles::density() const {
  constexpr int B = ErrorDensity::kBinades;
  ErrorDensity d;
  d.zero_err = zeros_abs_;
  int xl = B, xh = -1, yl = B, yh = -1;
  for (int y = 0; y < B; ++y)
    for (int x = 0; x < B; ++x)
      if (density_[size_t(y) * B + size_t(x)]) xl = std::min(xl, x), xh = std::max(xh, x), yl = std::min(yl, y), yh = std::max(yh, y);
  if (xh < 0) return d;
  d.x0 = xl, d.y0 = yl, d.nx = xh - xl + 1, d.ny = yh - yl + 1;
  for (int y = yl; y <= yh; ++y)
    for (int x = xl; x <= xh; ++x) d.count.push_back(density_[size_t(y) * B + size_t(x)]);
  return d;
}

double TensorStats::cosine() const {
  if (sum_a2 == 0 || sum_b2 == 0) return sum_a2 == sum_b2 ? 1.0 : 0.0;
  return sum_ab / std::sqrt(sum_a2 * sum_b2);
}

double TensorStats::nmse() const {
  if (sum_a2 == 0) return sum_d2 == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return sum_d2 / sum_a2;
}

double TensorStats::calc_diff() const {
  const double den = sum_a2 + sum_b2;
  if (den == 0) return 0.0;
  return 1.0 - 2.0 * sum_ab / den;
}

std::vector<int64_t> coords_of(const std::vector<int64_t>& shape, int64_t flat) {
  std::vector<int64_t> c(shape.size(), 0);
  for (size_t i = shape.size(); i-- > 0;) {
    const int64_t d = std::max<int64_t>(1, shape[i]);
    c[i] = flat % d;
    flat /= d;
  }
  return c;
}

std::string coords_text(const std::vector<int64_t>& shape, int64_t flat) { return shape_str(coords_of(shape, flat)); }

// =============================================================================================
// StatsAccumulator
// =============================================================================================

struct StatsAccumulator::Partial {
  TensorStats s;
  LaneSums lanes;
};

namespace {

constexpr uint64_t kSevClassMismatch = UINT64_MAX;

inline void ref_set(ElemRef& r, int64_t idx, const Elem& a, const Elem& b, uint64_t steps, bool valid) {
  r.index = idx, r.a_bits = a.bits, r.b_bits = b.bits, r.steps = steps, r.steps_valid = valid;
}

// Orders worst first: larger distance, then smaller flat index (a total order: indices are unique).
inline bool worse(const ElemRef& x, const ElemRef& y) { return x.steps != y.steps ? x.steps > y.steps : x.index < y.index; }

// Offers one differing element to a tensor's top list (kept sorted, at most kTopN long).
inline void top_offer(std::vector<ElemRef>& top, const ElemRef& r) {
  if (top.size() == kTopN && !worse(r, top.back())) return;
  top.insert(std::upper_bound(top.begin(), top.end(), r, worse), r);
  if (top.size() > kTopN) top.pop_back();
}

// Both sides bitwise equal over the piece: only counts and the golden's sums move.
template <Fmt F>
void piece_equal(const uint8_t* a, int64_t j0, int64_t n, int64_t g0, int64_t row_len, TensorStats& s, LaneSums& l) {
  int64_t nan = 0, inf = 0;
  for (int64_t k = 0; k < n; ++k) {
    const Elem e = elem_read_t<F>(a, j0 + k, row_len);
    const int lane = int((g0 + k) & 7);
    if (e.cls == Cls::finite) {
      const double v2 = e.value * e.value;
      l.a2[lane] += v2;
      l.b2[lane] += v2;
      l.ab[lane] += v2;
      ++s.n_finite;
      s.n_rel += e.value != 0;
    } else if (e.cls == Cls::nan) {
      ++nan;
    } else {
      ++inf;
    }
  }
  s.n += n;
  s.bit_equal += n;
  s.nan_a += nan, s.nan_b += nan, s.nan_both += nan;
  s.inf_a += inf, s.inf_b += inf;
  s.steps_hist[0] += n - nan;
}

// Scan mode, both sides bitwise equal: NaN and inf counts only. Integer tests over blocks of a constant
// length copied to an aligned local array (the data may sit at any byte offset of a mapped file), with
// 32-bit counters: GCC's -O2 vectorizer takes such loops. Integer counts are exact in any order.
constexpr int64_t kCountBlock = 2048;

template <class U, U kExpMask, U kMantMask>
inline void count_block(const U* blk, uint32_t& nf, uint32_t& nn) {
  for (int64_t k = 0; k < kCountBlock; ++k) {
    const uint32_t f = (blk[k] & kExpMask) == kExpMask;
    nf += f;
    nn += f & uint32_t((blk[k] & kMantMask) != 0);
  }
}

template <class U, U kExpMask, U kMantMask>
void count_float_nonfinite(const uint8_t* a, int64_t n, int64_t& nonfinite, int64_t& nan) {
  alignas(64) U blk[kCountBlock];
  for (int64_t k0 = 0; k0 < n; k0 += kCountBlock) {
    const int64_t m = std::min(kCountBlock, n - k0);
    if (m < kCountBlock) std::fill(blk + m, blk + kCountBlock, U(0));  // zeros count as finite
    std::memcpy(blk, a + k0 * int64_t(sizeof(U)), size_t(m) * sizeof(U));
    uint32_t nf = 0, nn = 0;
    count_block<U, kExpMask, kMantMask>(blk, nf, nn);
    nonfinite += nf, nan += nn;
  }
}

template <uint8_t kMask, uint8_t kValue>
int64_t count_bytes_masked(const uint8_t* a, int64_t n) {
  alignas(64) uint8_t blk[kCountBlock];
  int64_t total = 0;
  for (int64_t k0 = 0; k0 < n; k0 += kCountBlock) {
    const int64_t m = std::min(kCountBlock, n - k0);
    if (m < kCountBlock) std::fill(blk + m, blk + kCountBlock, uint8_t(kValue ^ kMask));  // never matches
    std::memcpy(blk, a + k0, size_t(m));
    uint32_t c = 0;
    for (int64_t k = 0; k < kCountBlock; ++k) c += (blk[k] & kMask) == kValue;
    total += c;
  }
  return total;
}

template <Fmt F>
void piece_count(const uint8_t* a, int64_t j0, int64_t n, TensorStats& s) {
  int64_t nonfinite = 0, nan = 0;
  if constexpr (F == Fmt::f32) {
    count_float_nonfinite<uint32_t, 0x7F800000u, 0x7FFFFFu>(a + 4 * j0, n, nonfinite, nan);
  } else if constexpr (F == Fmt::bf16) {
    count_float_nonfinite<uint16_t, 0x7F80u, 0x7Fu>(a + 2 * j0, n, nonfinite, nan);
  } else if constexpr (F == Fmt::e4m3fn) {
    nonfinite = nan = count_bytes_masked<0x7F, 0x7F>(a + j0, n);
  } else if constexpr (F == Fmt::e5m2) {
    nonfinite = count_bytes_masked<0x7C, 0x7C>(a + j0, n);
    nan = nonfinite - count_bytes_masked<0x7F, 0x7C>(a + j0, n);
  } else if constexpr (F == Fmt::ue8m0) {
    nonfinite = nan = count_bytes_masked<0xFF, 0xFF>(a + j0, n);
  }
  s.n += n;
  s.bit_equal += n;
  s.nan_a += nan, s.nan_b += nan, s.nan_both += nan;
  s.inf_a += nonfinite - nan, s.inf_b += nonfinite - nan;
  s.steps_hist[0] += n - nan;
}

template <Fmt F>
void piece_general(const uint8_t* a, const uint8_t* b, int64_t j0, int64_t n, int64_t g0, int64_t row_len,
                   const ElemBudget& bud, TensorStats& s, LaneSums& l, const GridMap& grid, int64_t* gcount,
                   uint64_t* gmax) {
  for (int64_t k = 0; k < n; ++k) {
    const int64_t g = g0 + k;
    const Elem x = elem_read_t<F>(a, j0 + k, row_len), y = elem_read_t<F>(b, j0 + k, row_len);
    const bool same = x.bits == y.bits;
    s.n += 1;
    s.nan_a += x.cls == Cls::nan, s.nan_b += y.cls == Cls::nan;
    s.inf_a += x.cls == Cls::pos_inf || x.cls == Cls::neg_inf;
    s.inf_b += y.cls == Cls::pos_inf || y.cls == Cls::neg_inf;
    bool over = false;
    uint64_t sev = 0;
    bool valid = false;
    if (x.cls == Cls::nan && y.cls == Cls::nan) {
      ++s.nan_both;
      if (!same) ++s.nan_bits_differ;
      over = !same && (!bud.nan_equal || bud.bits_exact);
    } else if (x.cls != y.cls) {
      ++s.nonfinite_mismatch;
      over = true;
      sev = kSevClassMismatch;
    } else {
      valid = true;
      sev = x.cls == Cls::finite ? elem_steps(x, y) : 0;
      ++s.steps_hist[size_t(ulp_bucket(sev))];
      s.max_steps = std::max(s.max_steps, sev);
      over = bud.bits_exact ? !same : sev > bud.max_steps;
      if (x.cls == Cls::finite) {
        const double d = x.value - y.value;
        const double ad = std::fabs(d);
        if (bud.close) over = !(ad <= bud.atol + bud.rtol * std::fabs(x.value));
        s.max_abs = std::max(s.max_abs, ad);
        const double rel = x.value != 0 ? ad / std::fabs(x.value)
                                        : (ad == 0 ? 0.0 : std::numeric_limits<double>::infinity());
        s.max_rel = std::max(s.max_rel, rel);
        const int lane = int(g & 7);
        l.d2[lane] += d * d;
        l.a2[lane] += x.value * x.value;
        l.b2[lane] += y.value * y.value;
        l.ab[lane] += x.value * y.value;
        l.ae[lane] += ad;
        ++s.n_finite;
        if (x.value != 0) l.re[lane] += rel, ++s.n_rel;
      } else if (bud.close) {
        over = false;  // the same infinity on both sides: close, as numpy.allclose says
      }
    }
    if (same) {
      ++s.bit_equal;
    } else {
      if (s.first_diff.index < 0) ref_set(s.first_diff, g, x, y, sev, valid);
      if (s.worst.index < 0 || sev > s.worst.steps) ref_set(s.worst, g, x, y, sev, valid);
      if (s.top.size() < kTopN || sev > s.top.back().steps) {  // ties go to the earlier index already held
        ElemRef r;
        ref_set(r, g, x, y, sev, valid);
        top_offer(s.top, r);
      }
      if (gcount) {
        const size_t cell = grid.cell(g);
        std::atomic_ref<int64_t>(gcount[cell]).fetch_add(1, std::memory_order_relaxed);
        std::atomic_ref<uint64_t> m(gmax[cell]);
        uint64_t cur = m.load(std::memory_order_relaxed);
        while (sev > cur && !m.compare_exchange_weak(cur, sev, std::memory_order_relaxed)) {
        }
      }
    }
    if (over) {
      ++s.over_count;
      if (s.first_over.index < 0) ref_set(s.first_over, g, x, y, sev, valid);
    }
  }
}

// Combines a later piece's stats into `t` (counts add, max, earliest first, largest worst). Sums are
// not touched here: they move through LaneSums and sub-block folds only.
void merge_counts(TensorStats& t, const TensorStats& p) {
  t.n += p.n;
  t.bit_equal += p.bit_equal;
  t.nan_a += p.nan_a, t.nan_b += p.nan_b, t.inf_a += p.inf_a, t.inf_b += p.inf_b;
  t.nan_both += p.nan_both, t.nan_bits_differ += p.nan_bits_differ;
  t.nonfinite_mismatch += p.nonfinite_mismatch;
  t.max_steps = std::max(t.max_steps, p.max_steps);
  for (int i = 0; i < kUlpBuckets; ++i) t.steps_hist[size_t(i)] += p.steps_hist[size_t(i)];
  t.max_abs = std::max(t.max_abs, p.max_abs);
  t.max_rel = std::max(t.max_rel, p.max_rel);
  if (t.first_diff.index < 0) t.first_diff = p.first_diff;
  if (p.worst.index >= 0 && (t.worst.index < 0 || p.worst.steps > t.worst.steps)) t.worst = p.worst;
  if (t.first_over.index < 0) t.first_over = p.first_over;
  t.over_count += p.over_count;
  t.n_finite += p.n_finite, t.n_rel += p.n_rel;
  for (const ElemRef& r : p.top) top_offer(t.top, r);
}

using EqualFn = void (*)(const uint8_t*, int64_t, int64_t, int64_t, int64_t, TensorStats&, LaneSums&);
using CountFn = void (*)(const uint8_t*, int64_t, int64_t, TensorStats&);
using GeneralFn = void (*)(const uint8_t*, const uint8_t*, int64_t, int64_t, int64_t, int64_t, const ElemBudget&,
                           TensorStats&, LaneSums&, const GridMap&, int64_t*, uint64_t*);

struct Kernels {
  EqualFn equal;
  GeneralFn general;
  CountFn count;
};

template <Fmt F>
constexpr Kernels kernels() {
  return {piece_equal<F>, piece_general<F>, piece_count<F>};
}

Kernels kernels_for(Fmt f) {
  return fmt_visit(f, [](auto F) { return kernels<decltype(F)::value>(); });
}

// Stored byte span of elements [j0, j0 + n) of a buffer (for the memcmp fast path); -1 when the
// elements do not map to whole bytes on their own (e2m1x2 with padded rows).
std::pair<int64_t, int64_t> byte_span(Fmt f, int64_t j0, int64_t n, int64_t row_len) {
  if (f == Fmt::e2m1x2 && (row_len > 0 || (j0 & 1))) return {-1, -1};
  return {fmt_row_bytes(f, j0), fmt_row_bytes(f, n)};  // e2m1x2 from an even element: (n + 1) / 2 bytes
}

}  // namespace

StatsAccumulator::StatsAccumulator(Fmt f, std::vector<int64_t> shape, Mode mode, ElemBudget budget, int grid_rows,
                                   int grid_cols)
    : fmt_(f), shape_(std::move(shape)), mode_(mode), budget_(budget), grid_(shape_, grid_rows, grid_cols) {
  for (int64_t d : shape_) numel_ *= d;
  if (grid_.cells_r > 0 && grid_.cells_c > 0) {
    grid_count_.assign(size_t(grid_.cells_r) * size_t(grid_.cells_c), 0);
    grid_max_.assign(grid_count_.size(), 0);
  }
}

void StatsAccumulator::add(int64_t e0, int64_t n, const uint8_t* a, const uint8_t* b, int64_t row_len) {
  if (n <= 0) return;
  // Pieces: split at global multiples of kSubBlock.
  std::vector<int64_t> starts;
  for (int64_t p = e0; p < e0 + n; p = std::min(e0 + n, (p / kSubBlock + 1) * kSubBlock)) starts.push_back(p);
  const int64_t np = int64_t(starts.size());
  starts.push_back(e0 + n);
  std::vector<Partial> parts(static_cast<size_t>(np));
  parts[0].lanes = carry_;
  const Kernels kn = kernels_for(fmt_);
  const bool scan = mode_ == Mode::scan;
  int64_t* gc = grid_count_.empty() || !scan ? nullptr : grid_count_.data();
  uint64_t* gm = grid_max_.empty() || !scan ? nullptr : grid_max_.data();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < np; ++i) {
    const int64_t g0 = starts[size_t(i)], cnt = starts[size_t(i) + 1] - g0, j0 = g0 - e0;
    Partial& p = parts[size_t(i)];
    const auto [off, len] = byte_span(fmt_, j0, cnt, row_len);
    const bool equal = off >= 0 && std::memcmp(a + off, b + off, size_t(len)) == 0;
    if (equal && scan && row_len == 0)
      kn.count(a, j0, cnt, p.s);
    else if (equal)
      kn.equal(a, j0, cnt, g0, row_len, p.s, p.lanes);
    else
      kn.general(a, b, j0, cnt, g0, row_len, budget_, p.s, p.lanes, grid_, gc, gm);
  }
  for (int64_t i = 0; i < np; ++i) {
    merge_counts(total_, parts[size_t(i)].s);
    const int64_t end = starts[size_t(i) + 1];
    if (end % kSubBlock == 0 || end == numel_) {
      parts[size_t(i)].lanes.fold_into(total_.sum_d2, total_.sum_a2, total_.sum_b2, total_.sum_ab);
      parts[size_t(i)].lanes.fold_err_into(total_.sum_abs_err, total_.sum_rel_err);
      carry_ = LaneSums{};
    } else {
      carry_ = parts[size_t(i)].lanes;
    }
  }
}

TensorStats StatsAccumulator::finish() {
  TensorStats t = total_;
  if (mode_ == Mode::scan) t.sum_d2 = t.sum_a2 = t.sum_b2 = t.sum_ab = t.sum_abs_err = t.sum_rel_err = 0, t.n_finite = t.n_rel = 0;  // only Mode::sums defines them
  return t;
}

}  // namespace v4::compare
