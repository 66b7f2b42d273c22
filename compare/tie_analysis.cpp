// Tie analysis of the comparator: see tie_analysis.h. Elements are decoded by compare/metrics.h
// (elem_read), the one reader of every stored format here.
#include "compare/tie_analysis.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "compare/metrics.h"

namespace v4::compare {

using golden::TensorInfo;

// ---------------------------------------------------------------------------------------------
// Index tensors
// ---------------------------------------------------------------------------------------------

IndexTies::IndexTies(const OpenFile& golden, const std::string& scores, const std::vector<int64_t>& shape,
                     int64_t chunk_bytes)
    : scores_(golden, scores, chunk_bytes), n_(scores_.src.info().shape.back()) {
  stats_.scores = scores;
  stats_.k = shape.back();
  stats_.rows = stats_.k > 0 ? numel_of(shape) / stats_.k : 0;
}

void IndexTies::add(Fmt f, int64_t r0, int64_t nrows, const uint8_t* ga, const uint8_t* cb) {
  const int64_t k = stats_.k, row_bytes = k * int64_t(fmt_storage_size(f));
  IndexStats& st = stats_;
  std::vector<uint8_t> sbuf;
  std::vector<int64_t> g(static_cast<size_t>(k)), c(static_cast<size_t>(k)), gs, cs;
  for (int64_t r = 0; r < nrows; ++r) {
    if (std::memcmp(ga + r * row_bytes, cb + r * row_bytes, size_t(row_bytes)) == 0) continue;
    ++st.rows_differ;
    for (int64_t i = 0; i < k; ++i)
      g[size_t(i)] = elem_read(f, ga, r * k + i).key, c[size_t(i)] = elem_read(f, cb, r * k + i).key;
    const int64_t row = r0 + r;
    scores_.src.read(scores_.plan, row * n_, (row + 1) * n_, sbuf);
    const Fmt sf = scores_.src.info().fmt;
    const auto score = [&](int64_t idx) { return float(elem_read(sf, sbuf.data(), idx).value); };
    const auto in_range = [&](int64_t idx) { return idx >= 0 && idx < n_; };
    bool explained = true;
    for (int64_t i = 0; i < k; ++i) explained = explained && in_range(g[size_t(i)]) && in_range(c[size_t(i)]);
    gs = g, cs = c;
    std::sort(gs.begin(), gs.end());
    std::sort(cs.begin(), cs.end());
    if (std::adjacent_find(cs.begin(), cs.end()) != cs.end()) explained = false;  // a duplicate is never a tie
    std::vector<int64_t> only_g, only_c;
    std::set_difference(gs.begin(), gs.end(), cs.begin(), cs.end(), std::back_inserter(only_g));
    std::set_difference(cs.begin(), cs.end(), gs.begin(), gs.end(), std::back_inserter(only_c));
    st.set_diff += int64_t(only_g.size());
    int64_t order = 0;
    for (int64_t i = 0; i < k; ++i) order += g[size_t(i)] != c[size_t(i)];
    st.order_diff += order;
    std::string detail;
    if (explained) {
      // Boundary score: the golden's smallest selected score. Entries swapped across the selection
      // boundary must all carry it; entries at different positions must carry equal scores.
      float boundary = score(g[0]);
      for (int64_t i = 1; i < k; ++i) boundary = std::min(boundary, score(g[size_t(i)]));
      for (int64_t x : only_g) explained = explained && score(x) == boundary;
      for (int64_t x : only_c) explained = explained && score(x) == boundary;
      for (int64_t i = 0; i < k && explained; ++i)
        if (g[size_t(i)] != c[size_t(i)]) explained = score(g[size_t(i)]) == score(c[size_t(i)]);
    }
    // Describe the first differing position (and scores when in range).
    for (int64_t i = 0; i < k; ++i)
      if (g[size_t(i)] != c[size_t(i)]) {
        char buf[256];
        const auto sc = [&](int64_t idx) { return in_range(idx) ? std::to_string(score(idx)) : std::string("out of range"); };
        std::snprintf(buf, sizeof buf, "row %lld position %lld: golden index %lld (score %s) candidate index %lld (score %s); %lld set, %lld order differences",
                      (long long)row, (long long)i, (long long)g[size_t(i)], sc(g[size_t(i)]).c_str(),
                      (long long)c[size_t(i)], sc(c[size_t(i)]).c_str(), (long long)only_g.size(), (long long)order);
        detail = buf;
        break;
      }
    if (explained) {
      ++st.rows_tie_flip;
      if (st.first_tie_row < 0) st.first_tie_row = row, st.first_tie_detail = detail;
    } else {
      ++st.rows_real;
      if (st.first_real_row < 0) st.first_real_row = row, st.first_real_detail = detail;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Quantized tensors: is a code flip on a rounding tie?
// ---------------------------------------------------------------------------------------------

bool is_quantized(const TensorInfo& info, const golden::TensorLinks& links) {
  const bool rounded = info.fmt == Fmt::bf16 || info.fmt == Fmt::e4m3fn || info.fmt == Fmt::e5m2 || info.fmt == Fmt::e2m1x2;
  return rounded && (!info.attrs.scale.empty() || !links.source.empty());
}

QuantTies::QuantTies(const OpenFile& golden, const TensorInfo& info, const golden::TensorLinks& links,
                     int64_t chunk_bytes)
    : shape_(info.shape) {
  stats_.scale = info.attrs.scale;
  stats_.source = links.source;
  stats_.block = info.attrs.block;
  if (links.source.empty()) return;
  source_.emplace(golden, links.source, chunk_bytes);
  if (info.attrs.scale.empty()) return;
  scale_.emplace(golden, info.attrs.scale, chunk_bytes);
  block_ = info.attrs.block;
  scale_shape_ = scale_->src.info().shape;
}

int64_t QuantTies::scale_index(int64_t e) const {
  const std::vector<int64_t> c = coords_of(shape_, e);
  int64_t idx = 0;
  for (size_t d = 0; d < c.size(); ++d) idx = idx * scale_shape_[d] + c[d] / block_[d];
  return idx;
}

void QuantTies::add(Fmt f, const ChunkPlan& plan, int64_t e0, int64_t e1, const uint8_t* ga, const uint8_t* cb) {
  QuantStats& st = stats_;
  std::vector<uint8_t> src, scl;
  int64_t s_lo = 0;
  bool loaded = false;
  for (int64_t j = 0; j < e1 - e0; ++j) {
    const Elem x = elem_read(f, ga, j, plan.row_len), y = elem_read(f, cb, j, plan.row_len);
    if (x.bits == y.bits || x.cls == Cls::nan || y.cls == Cls::nan) continue;
    ++st.flips;
    if (!source_) {
      ++st.flips_tie_unknown;
      continue;
    }
    if (!loaded) {
      source_->src.read(source_->plan, e0, e1, src);
      if (scale_) {
        s_lo = scale_index(e0);
        scale_->src.read(scale_->plan, s_lo, scale_index(e1 - 1) + 1, scl);
      }
      loaded = true;
    }
    float v = float(elem_read(source_->src.info().fmt, src.data(), j).value);
    if (scale_) v = v / float(elem_read(scale_->src.info().fmt, scl.data(), scale_index(e0 + j) - s_lo).value);
    const bool tie = x.cls == Cls::finite && y.cls == Cls::finite && elem_steps(x, y) == 1 &&
                     double(v) == (x.value + y.value) / 2;
    ++(tie ? st.flips_on_tie : st.flips_not_tie);
  }
}

void attach_scale_mismatches(std::vector<TensorResult>& tensors) {
  for (TensorResult& t : tensors)
    if (t.quant && !t.quant->scale.empty())
      for (const TensorResult& s : tensors)
        if (s.run == t.run && s.path == t.quant->scale && s.rule.budget.kind != Budget::Kind::ignore) {
          t.quant->scale_mismatch = s.stats.n - s.stats.bit_equal;
          t.quant->scale_max_steps = s.stats.max_steps;
        }
}

}  // namespace v4::compare
