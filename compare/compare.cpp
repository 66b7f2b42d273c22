// The comparator: see compare.h. Shape of the work: validate everything (metadata, every dataset's
// presence, format, shape and links) before reading any tensor data, so bad input fails fast with one
// line; then stream each tensor pair in flat element ranges of bounded size. Contiguous datasets are
// compared in place through read-only file mappings of one range at a time (no copy out of the page
// cache; OpenMP threads fault pages in parallel); HDF5 itself is not thread-safe and serves only the
// metadata and chunked/compressed datasets, serially, through a bounded buffer.
#include "compare/compare.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include "reference/formats.h"

namespace v4::compare {

using golden::H5Reader;
using golden::InputError;
using golden::SchemaReader;
using golden::TensorInfo;

namespace {

std::string shape_text(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t numel_of(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// One open file: HDF5 reader (metadata, fallback reads), schema reader (links, raw extents), and a
// plain descriptor for pread.
struct OpenFile {
  std::string path;
  H5Reader h5;
  SchemaReader schema;
  golden::FileMeta meta;
  int fd = -1;
  explicit OpenFile(const std::string& p) : path(p), h5(p), schema(p), meta(golden::check_file_meta(h5)) {
    fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(p, "", std::string("cannot open: ") + std::strerror(errno));
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
};

// How a tensor is cut into flat element ranges. Every range starts on a multiple of `unit`.
struct ChunkPlan {
  int64_t numel = 0;
  int64_t unit = 1;      // elements
  int64_t row_len = 0;   // e2m1x2 with padded rows: logical last dim; else 0
  int64_t chunk = 1;     // elements per range (a multiple of unit)
};

// Stored byte offset of flat element e (e a multiple of the plan's unit, or numel).
int64_t stored_offset(Fmt f, const ChunkPlan& p, int64_t e) {
  if (f == Fmt::e2m1x2) return p.row_len > 0 ? (e / p.row_len) * ((p.row_len + 1) / 2) : (e + 1) / 2;
  return e * int64_t(fmt_storage_size(f));
}

// Stored bytes of a range of a tensor: a read-only file mapping (contiguous datasets: the page cache is
// compared in place, no copy) or an owned buffer (HDF5 fallback reads).
class View {
 public:
  View() = default;
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  ~View() { unmap(); }
  const uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  void map(int fd, uint64_t offset, uint64_t bytes, const std::string& file, const std::string& ds) {
    unmap();
    const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE)), start = offset / page * page;
    map_len_ = size_t(offset + bytes - start);
    map_ = ::mmap(nullptr, map_len_, PROT_READ, MAP_PRIVATE, fd, off_t(start));
    if (map_ == MAP_FAILED) {
      map_ = nullptr;
      throw InputError(file, ds, std::string("cannot map the data: ") + std::strerror(errno));
    }
    data_ = static_cast<const uint8_t*>(map_) + (offset - start);
    size_ = int64_t(bytes);
  }
  std::vector<uint8_t>& buffer() {
    unmap();
    return buf_;
  }
  void use_buffer() { data_ = buf_.data(), size_ = int64_t(buf_.size()); }

 private:
  void unmap() {
    if (map_) ::munmap(map_, map_len_);
    map_ = nullptr, data_ = nullptr, size_ = 0;
  }
  void* map_ = nullptr;
  size_t map_len_ = 0;
  std::vector<uint8_t> buf_;
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

// Reads the stored bytes of flat elements [e0, e1) of one dataset.
class Source {
 public:
  Source(const OpenFile& f, std::string dataset, TensorInfo info)
      : f_(f), ds_(std::move(dataset)), info_(std::move(info)), ext_(f.schema.raw_extent(ds_, info_)) {
    if (info_.shape.size() >= 2 && info_.shape[0] > 0) inner_ = std::max<int64_t>(1, numel_of(info_.shape) / info_.shape[0]);
  }
  bool raw() const { return ext_.has_value(); }
  int64_t inner() const { return inner_; }  // elements per dim-0 row (fallback reads need whole rows)
  const std::string& dataset() const { return ds_; }
  const TensorInfo& info() const { return info_; }

  // Bytes of [e0, e1) per plan p into v: mapped when raw (the file size was checked against the extent
  // when it was located), else read through HDF5.
  void fetch(const ChunkPlan& p, int64_t e0, int64_t e1, View& v) const {
    if (ext_) {
      const int64_t b0 = stored_offset(info_.fmt, p, e0), b1 = stored_offset(info_.fmt, p, e1);
      if (b1 > b0) return v.map(f_.fd, ext_->offset + uint64_t(b0), uint64_t(b1 - b0), f_.path, ds_);
    }
    read(p, e0, e1, v.buffer());
    v.use_buffer();
  }

  // Bytes of [e0, e1) per plan p. Raw: one pread; fallback: the dim-0 rows covering the range, sliced.
  void read(const ChunkPlan& p, int64_t e0, int64_t e1, std::vector<uint8_t>& buf) const {
    const int64_t b0 = stored_offset(info_.fmt, p, e0), b1 = stored_offset(info_.fmt, p, e1);
    buf.resize(size_t(b1 - b0));
    if (b1 == b0) return;
    if (ext_) {
      pread_all(int64_t(ext_->offset) + b0, b1 - b0, buf.data());
      if (info_.fmt == Fmt::e2m1x2 && p.row_len == 0 && (e1 & 1)) buf.back() &= 0x0F;  // next element's nibble
      return;
    }
    if (info_.shape.empty()) {
      const Tensor t = f_.h5.read(ds_);
      std::memcpy(buf.data(), t.data.data(), buf.size());
      return;
    }
    // Whole dim-0 rows covering the range (rank-1 e2m1x2: rows are elements and e0 is even).
    const int64_t r0 = e0 / inner_, r1 = std::min(info_.shape[0], (e1 + inner_ - 1) / inner_);
    const Tensor t = f_.h5.read_rows(ds_, r0, r1 - r0);
    const int64_t base = stored_offset(info_.fmt, p, r0 * inner_);
    std::memcpy(buf.data(), t.data.data() + (b0 - base), buf.size());
    if (info_.fmt == Fmt::e2m1x2 && p.row_len == 0 && (e1 & 1)) buf.back() &= 0x0F;
  }

 private:
  void pread_all(int64_t off, int64_t n, uint8_t* dst) const {
    while (n > 0) {
      const ssize_t got = ::pread(f_.fd, dst, size_t(std::min<int64_t>(n, int64_t(1) << 30)), off);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw InputError(f_.path, ds_, std::string("read error: ") + std::strerror(errno));
      if (got == 0) throw InputError(f_.path, ds_, "truncated file: the data ends past the end of the file");
      dst += got, off += got, n -= got;
    }
  }
  const OpenFile& f_;
  std::string ds_;
  TensorInfo info_;
  std::optional<golden::RawExtent> ext_;
  int64_t inner_ = 1;
};

ChunkPlan make_plan(const TensorInfo& info, int64_t chunk_bytes, int64_t row_multiple, bool need_dim0_rows,
                    int64_t inner) {
  ChunkPlan p;
  p.numel = numel_of(info.shape);
  const bool padded = info.fmt == Fmt::e2m1x2 && info.shape.size() >= 2 && info.shape.back() % 2 != 0;
  if (padded) p.row_len = info.shape.back();
  int64_t unit = padded ? info.shape.back() : info.fmt == Fmt::e2m1x2 ? 2 : 1;
  const auto lcm = [](int64_t a, int64_t b) { return a / std::gcd(a, b) * b; };
  if (row_multiple > 1) unit = lcm(unit, row_multiple);
  if (need_dim0_rows) unit = lcm(unit, inner);
  if (info.shape.empty()) unit = 1;
  p.unit = std::max<int64_t>(1, unit);
  const double bytes_per_elem = info.fmt == Fmt::e2m1x2 ? 0.5 : double(fmt_storage_size(info.fmt));
  const int64_t fit = int64_t(double(chunk_bytes) / bytes_per_elem) / p.unit * p.unit;
  p.chunk = std::max(p.unit, fit);
  return p;
}

Elem elem_from_bits(Fmt f, uint64_t bits) {
  uint8_t buf[8];
  std::memcpy(buf, &bits, 8);
  return elem_read(f, buf, 0, 0);
}

std::string elem_pair_text(Fmt f, const std::vector<int64_t>& shape, const ElemRef& r) {
  if (r.index < 0) return "";
  const Elem a = elem_from_bits(f, r.a_bits), b = elem_from_bits(f, r.b_bits);
  std::string s = coords_text(shape, r.index) + ": golden " + bits_hex(f, r.a_bits) + " (" + elem_value_text(f, a) +
                  ") candidate " + bits_hex(f, r.b_bits) + " (" + elem_value_text(f, b) + ")";
  if (r.steps_valid)
    s += ", " + std::to_string(r.steps) + " " + steps_unit(f);
  else if (a.cls != b.cls)
    s += ", non-finite mismatch";
  else
    s += ", NaN payloads differ";
  return s;
}

bool is_float_fmt(Fmt f) { return f != Fmt::i32 && f != Fmt::i64; }

// ---------------------------------------------------------------------------------------------
// Index tensors
// ---------------------------------------------------------------------------------------------

struct IndexCtx {
  const Source* scores = nullptr;  // golden's scores
  ChunkPlan scores_plan;
  int64_t n = 0;  // scores per row
};

int64_t read_index(Fmt f, const uint8_t* buf, int64_t j) {
  if (f == Fmt::i32) {
    int32_t v;
    std::memcpy(&v, buf + 4 * j, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, buf + 8 * j, 8);
  return v;
}

float score_value(Fmt f, const uint8_t* buf, int64_t j) {
  if (f == Fmt::bf16) {
    uint16_t u;
    std::memcpy(&u, buf + 2 * j, 2);
    return bf16_decode(u);
  }
  float v;
  std::memcpy(&v, buf + 4 * j, 4);
  return v;
}

// Rows [r0, r0 + nrows) of golden (ga) and candidate (cb) index buffers.
void index_analyze(const IndexCtx& ctx, Fmt f, int64_t k, int64_t r0, int64_t nrows, const uint8_t* ga,
                   const uint8_t* cb, IndexStats& st) {
  std::vector<uint8_t> sbuf;
  std::vector<int64_t> g(static_cast<size_t>(k)), c(static_cast<size_t>(k)), gs, cs;
  for (int64_t r = 0; r < nrows; ++r) {
    if (std::memcmp(ga + r * k * int64_t(fmt_storage_size(f)), cb + r * k * int64_t(fmt_storage_size(f)),
                    size_t(k) * fmt_storage_size(f)) == 0)
      continue;
    ++st.rows_differ;
    for (int64_t i = 0; i < k; ++i) g[size_t(i)] = read_index(f, ga, r * k + i), c[size_t(i)] = read_index(f, cb, r * k + i);
    const int64_t row = r0 + r;
    ctx.scores->read(ctx.scores_plan, row * ctx.n, (row + 1) * ctx.n, sbuf);
    const Fmt sf = ctx.scores->info().fmt;
    const auto score = [&](int64_t idx) { return score_value(sf, sbuf.data(), idx); };
    const auto in_range = [&](int64_t idx) { return idx >= 0 && idx < ctx.n; };
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

struct QuantCtx {
  const Source* source = nullptr;  // golden's pre-rounding values (f32/bf16), same shape
  const Source* scale = nullptr;   // golden's scale (ue8m0/f32/bf16)
  ChunkPlan source_plan, scale_plan;
  std::vector<int64_t> shape, block, scale_shape;
};

double decoded(Fmt f, const uint8_t* buf, int64_t j) { return elem_read(f, buf, j, 0).value; }

void quant_analyze(const QuantCtx& q, Fmt f, const ChunkPlan& plan, int64_t e0, int64_t e1, const uint8_t* ga,
                   const uint8_t* cb, QuantStats& st) {
  std::vector<uint8_t> src, scl;
  int64_t s_lo = 0;
  bool loaded = false;
  const auto scale_index = [&](int64_t e) {
    const std::vector<int64_t> c = coords_of(q.shape, e);
    int64_t idx = 0;
    for (size_t d = 0; d < c.size(); ++d) idx = idx * q.scale_shape[d] + c[d] / q.block[d];
    return idx;
  };
  for (int64_t j = 0; j < e1 - e0; ++j) {
    const Elem x = elem_read(f, ga, j, plan.row_len), y = elem_read(f, cb, j, plan.row_len);
    if (x.bits == y.bits || x.cls == Cls::nan || y.cls == Cls::nan) continue;
    ++st.flips;
    if (!q.source) {
      ++st.flips_tie_unknown;
      continue;
    }
    if (!loaded) {
      q.source->read(q.source_plan, e0, e1, src);
      if (q.scale) {
        s_lo = scale_index(e0);
        q.scale->read(q.scale_plan, s_lo, scale_index(e1 - 1) + 1, scl);
      }
      loaded = true;
    }
    float v = float(decoded(q.source->info().fmt, src.data(), j));
    if (q.scale) v = v / float(decoded(q.scale->info().fmt, scl.data(), scale_index(e0 + j) - s_lo));
    const bool tie = x.cls == Cls::finite && y.cls == Cls::finite && elem_steps(x, y) == 1 &&
                     double(v) == (x.value + y.value) / 2;
    ++(tie ? st.flips_on_tie : st.flips_not_tie);
  }
}

// ---------------------------------------------------------------------------------------------

struct Planned {
  std::string run, golden_ds, cand_ds;
  TensorInfo ginfo, cinfo;
  golden::TensorLinks links;
  PolicyRule rule;
};

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

void check_link_target(const OpenFile& g, const std::string& ds, const std::string& what, const std::string& target,
                       std::initializer_list<Fmt> fmts) {
  if (!g.h5.has(target))
    throw InputError(g.path, ds, what + " '" + target + "' names no dataset in this file");
  const TensorInfo t = g.h5.info(target);
  for (Fmt f : fmts)
    if (t.fmt == f) return;
  throw InputError(g.path, ds, what + " '" + target + "' has format " + fmt_name(t.fmt) + ", which cannot serve as " + what);
}

std::string verdict_why(const TensorResult& t) {
  const TensorStats& s = t.stats;
  const std::string unit = steps_unit(t.fmt);
  const std::string b = t.rule.budget.text();
  char buf[512];
  if (t.index && t.rule.budget.kind != Budget::Kind::bitwise) {
    std::snprintf(buf, sizeof buf, "%s: %lld of %lld rows differ beyond equal-score ties", b.c_str(),
                  (long long)t.index->rows_real, (long long)t.index->rows);
    return buf;
  }
  if (t.index) {
    std::snprintf(buf, sizeof buf, "%s: %lld of %lld rows differ (%lld tie flips of equal scores, %lld real mismatches)",
                  b.c_str(), (long long)t.index->rows_differ, (long long)t.index->rows, (long long)t.index->rows_tie_flip,
                  (long long)t.index->rows_real);
    return buf;
  }
  if (s.nonfinite_mismatch > 0 && t.rule.budget.kind != Budget::Kind::bitwise) {
    std::snprintf(buf, sizeof buf, "%s: %lld elements differ in NaN/inf class (NaN golden %lld candidate %lld, inf golden %lld candidate %lld)",
                  b.c_str(), (long long)s.nonfinite_mismatch, (long long)s.nan_a, (long long)s.nan_b, (long long)s.inf_a,
                  (long long)s.inf_b);
    return buf;
  }
  switch (t.rule.budget.kind) {
    case Budget::Kind::ulp:
      std::snprintf(buf, sizeof buf, "%s: %lld of %lld elements over %llu %s (max %llu)", b.c_str(), (long long)s.over_count,
                    (long long)s.n, (unsigned long long)t.rule.budget.ulp, unit.c_str(), (unsigned long long)s.max_steps);
      return buf;
    case Budget::Kind::nmse:
      std::snprintf(buf, sizeof buf, "%s: NMSE %.6g > %g", b.c_str(), s.nmse(), t.rule.budget.nmse);
      return buf;
    default:
      std::snprintf(buf, sizeof buf, "%s: %lld of %lld elements differ (max %llu %s%s)", b.c_str(),
                    (long long)(s.n - s.bit_equal), (long long)s.n, (unsigned long long)s.max_steps, unit.c_str(),
                    s.nonfinite_mismatch ? ", NaN/inf class mismatches" : s.nan_bits_differ ? ", NaN payloads differ" : "");
      return buf;
  }
}

bool tensor_passes(const TensorResult& t) {
  const TensorStats& s = t.stats;
  switch (t.rule.budget.kind) {
    case Budget::Kind::ignore: return true;
    case Budget::Kind::bitwise: return s.bit_equal == s.n;
    case Budget::Kind::ties:
      if (t.index) return t.index->rows_real == 0;
      return s.bit_equal == s.n;
    case Budget::Kind::ulp:
      if (t.index) return t.index->rows_real == 0;
      return s.over_count == 0;
    case Budget::Kind::nmse:
      if (t.index) return t.index->rows_real == 0;
      return s.nonfinite_mismatch == 0 && s.nmse() <= t.rule.budget.nmse;
  }
  return false;
}

}  // namespace

PathParts split_model_path(const std::string& path, const std::string& root_name) {
  std::vector<std::string> parts;
  size_t i = 1;
  while (i <= path.size()) {
    const size_t j = path.find('/', i);
    parts.push_back(path.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  if (parts.size() >= 4 && parts[0] == "layers") {
    std::string rest = parts[3];
    for (size_t k = 4; k < parts.size(); ++k) rest += "/" + parts[k];
    return {parts[1], parts[2], rest};
  }
  if (parts.size() == 1) return {root_name, root_name, parts[0]};
  std::string comp = parts[0];
  for (size_t k = 1; k + 1 < parts.size(); ++k) comp += "/" + parts[k];
  return {"-", comp, parts.back()};
}

bool CompareResult::pass() const { return verdict() < 0; }

int64_t CompareResult::first_failure(const std::string& run) const {
  for (size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].run == run && !tensors[i].pass) return int64_t(i);
  return -1;
}

int64_t CompareResult::verdict() const {
  for (const char* r : {kRunTeacherForced, "", kRunFreeRunning}) {
    const int64_t i = first_failure(r);
    if (i >= 0) return i;
  }
  return -1;
}

CompareResult compare_files(const std::string& golden_path, const std::string& candidate_path, const CompareOptions& opt) {
  const auto t_start = std::chrono::steady_clock::now();
  OpenFile g(golden_path), c(candidate_path);
  CompareResult res;
  res.golden_path = golden_path, res.candidate_path = candidate_path;
  res.golden_meta = g.meta, res.candidate_meta = c.meta;
  res.policy_default = opt.policy.default_rule(), res.policy_rules = opt.policy.rules(), res.policy_file = opt.policy.file();
  const std::string root_name = !g.meta.name.empty() ? g.meta.name : !g.meta.kind.empty() ? g.meta.kind : "root";

  // ---- runs and pairing ----
  const std::vector<std::string> gds = g.h5.datasets(), cds = c.h5.datasets();
  if (gds.empty()) throw InputError(golden_path, "", "holds no datasets");
  const std::set<std::string> cset(cds.begin(), cds.end());
  bool has_tf = false, has_fr = false;
  for (const std::string& d : cds) {
    has_tf = has_tf || starts_with(d, std::string("/") + kRunTeacherForced + "/");
    has_fr = has_fr || starts_with(d, std::string("/") + kRunFreeRunning + "/");
  }
  if (has_tf) res.runs.push_back(kRunTeacherForced);
  if (has_fr) res.runs.push_back(kRunFreeRunning);
  if (res.runs.empty()) res.runs.push_back("");

  std::vector<Planned> plan;
  std::set<std::string> used;
  for (const std::string& run : res.runs) {
    for (const std::string& ds : gds) {
      Planned p;
      p.run = run;
      p.golden_ds = ds;
      p.cand_ds = run.empty() ? ds : "/" + run + ds;
      p.ginfo = g.h5.info(ds);
      if (!cset.count(p.cand_ds))
        throw InputError(candidate_path, p.cand_ds,
                         std::string("missing: the golden has this dataset (") + fmt_name(p.ginfo.fmt) + " " +
                             shape_text(p.ginfo.shape) + ")");
      used.insert(p.cand_ds);
      p.cinfo = c.h5.info(p.cand_ds);
      if (p.cinfo.fmt != p.ginfo.fmt)
        throw InputError(candidate_path, p.cand_ds,
                         std::string("format ") + fmt_name(p.cinfo.fmt) + " (stored as " +
                             fmt_storage_name(p.cinfo.fmt) + ") but the golden's is " + fmt_name(p.ginfo.fmt) +
                             " (stored as " + fmt_storage_name(p.ginfo.fmt) + ")");
      if (p.cinfo.shape != p.ginfo.shape)
        throw InputError(candidate_path, p.cand_ds,
                         "logical shape " + shape_text(p.cinfo.shape) + " but the golden's is " + shape_text(p.ginfo.shape));
      p.links = g.schema.links(ds);
      p.rule = opt.policy.match(ds);
      plan.push_back(std::move(p));
    }
  }
  for (const std::string& d : cds)
    if (!used.count(d)) res.candidate_extra.push_back(d);

  // ---- links of the golden: validated once, before any data is read ----
  for (const Planned& p : plan) {
    if (p.run != res.runs.front()) break;
    if (p.links.kind == golden::kKindTopkIndices) {
      if (p.ginfo.fmt != Fmt::i32 && p.ginfo.fmt != Fmt::i64)
        throw InputError(golden_path, p.golden_ds, "kind topk_indices needs format i32 or i64");
      check_link_target(g, p.golden_ds, "scores", p.links.scores, {Fmt::f32, Fmt::bf16});
      const TensorInfo s = g.h5.info(p.links.scores);
      if (p.ginfo.shape.empty() || s.shape.size() != p.ginfo.shape.size() ||
          !std::equal(s.shape.begin(), s.shape.end() - 1, p.ginfo.shape.begin()))
        throw InputError(golden_path, p.golden_ds,
                         "topk indices " + shape_text(p.ginfo.shape) + " and scores " + shape_text(s.shape) +
                             " must share every dimension but the last");
    }
    if (!p.links.source.empty()) {
      check_link_target(g, p.golden_ds, "source", p.links.source, {Fmt::f32, Fmt::bf16});
      if (g.h5.info(p.links.source).shape != p.ginfo.shape)
        throw InputError(golden_path, p.golden_ds, "source '" + p.links.source + "' has another logical shape");
    }
    if (!p.ginfo.attrs.scale.empty()) {
      check_link_target(g, p.golden_ds, "scale", p.ginfo.attrs.scale, {Fmt::ue8m0, Fmt::f32, Fmt::bf16});
      const TensorInfo s = g.h5.info(p.ginfo.attrs.scale);
      std::vector<int64_t> want;
      for (size_t d = 0; d < p.ginfo.shape.size() && d < p.ginfo.attrs.block.size(); ++d)
        want.push_back((p.ginfo.shape[d] + p.ginfo.attrs.block[d] - 1) / p.ginfo.attrs.block[d]);
      if (p.ginfo.attrs.block.empty() || s.shape != want)
        throw InputError(golden_path, p.golden_ds,
                         "scale '" + p.ginfo.attrs.scale + "' has shape " + shape_text(s.shape) +
                             ", expected ceil(logical shape / block) = " + shape_text(want));
    }
  }

  if (opt.verify_hash) {
    const auto verify = [](const OpenFile& f, const std::string& ds, const TensorInfo& info) {
      if (!info.sha256.empty() && !f.h5.verify_hash(ds))
        throw InputError(f.path, ds, "content hash mismatch: the data does not hash to its sha256 attribute (corrupt file)");
    };
    for (const Planned& p : plan) {
      if (p.run == res.runs.front()) verify(g, p.golden_ds, p.ginfo);
      verify(c, p.cand_ds, p.cinfo);
    }
  }

  // ---- stream every pair ----
  for (const Planned& p : plan) {
    TensorResult tr;
    tr.run = p.run;
    tr.path = p.golden_ds;
    const PathParts pp = split_model_path(p.golden_ds, root_name);
    tr.layer = pp.layer, tr.component = pp.component, tr.tensor = pp.tensor;
    tr.fmt = p.ginfo.fmt;
    tr.shape = p.ginfo.shape;
    tr.rule = p.rule;
    const Budget& bud = p.rule.budget;
    if (bud.kind == Budget::Kind::ignore) {
      res.tensors.push_back(std::move(tr));
      continue;
    }
    const Source sa(g, p.golden_ds, p.ginfo), sb(c, p.cand_ds, p.cinfo);
    const bool is_index = p.links.kind == golden::kKindTopkIndices;
    const int64_t k = is_index ? p.ginfo.shape.back() : 1;
    const bool fallback = !sa.raw() || !sb.raw();
    const ChunkPlan cp = make_plan(p.ginfo, opt.chunk_bytes, k, fallback, sa.inner());

    ElemBudget eb;
    eb.nan_equal = bud.nan_equal();
    if (bud.kind == Budget::Kind::bitwise || bud.kind == Budget::Kind::ties) eb.bits_exact = true, eb.max_steps = 0;
    if (bud.kind == Budget::Kind::ulp) eb.max_steps = bud.ulp;
    StatsAccumulator acc(p.ginfo.fmt, p.ginfo.shape, StatsAccumulator::Mode::scan, eb, opt.grid_rows, opt.grid_cols);

    std::optional<Source> scores_src, source_src, scale_src;
    IndexCtx ictx;
    if (is_index) {
      scores_src.emplace(g, p.links.scores, g.h5.info(p.links.scores));
      ictx.scores = &*scores_src;
      ictx.n = scores_src->info().shape.back();
      ictx.scores_plan = make_plan(scores_src->info(), opt.chunk_bytes, 1, !scores_src->raw(), scores_src->inner());
      tr.index = IndexStats{};
      tr.index->scores = p.links.scores;
      tr.index->k = k;
      tr.index->rows = k > 0 ? numel_of(p.ginfo.shape) / k : 0;
    }
    QuantCtx qctx;
    const bool quantized = (p.ginfo.fmt == Fmt::bf16 || p.ginfo.fmt == Fmt::e4m3fn || p.ginfo.fmt == Fmt::e5m2 ||
                            p.ginfo.fmt == Fmt::e2m1x2) &&
                           (!p.ginfo.attrs.scale.empty() || !p.links.source.empty());
    if (quantized) {
      tr.quant = QuantStats{};
      tr.quant->scale = p.ginfo.attrs.scale;
      tr.quant->source = p.links.source;
      tr.quant->block = p.ginfo.attrs.block;
      qctx.shape = p.ginfo.shape;
      if (!p.links.source.empty()) {
        source_src.emplace(g, p.links.source, g.h5.info(p.links.source));
        qctx.source = &*source_src;
        qctx.source_plan = make_plan(source_src->info(), opt.chunk_bytes, 1, !source_src->raw(), source_src->inner());
        if (!p.ginfo.attrs.scale.empty()) {
          scale_src.emplace(g, p.ginfo.attrs.scale, g.h5.info(p.ginfo.attrs.scale));
          qctx.scale = &*scale_src;
          qctx.scale_plan = make_plan(scale_src->info(), opt.chunk_bytes, 1, !scale_src->raw(), scale_src->inner());
          qctx.block = p.ginfo.attrs.block;
          qctx.scale_shape = scale_src->info().shape;
        }
      }
    }

    View va, vb;
    const auto read_both = [&](int64_t e0, int64_t e1) {
      sa.fetch(cp, e0, e1, va);
      sb.fetch(cp, e0, e1, vb);
      res.bytes_read += va.size() + vb.size();
    };
    for (int64_t e0 = 0; e0 < cp.numel; e0 += cp.chunk) {
      const int64_t e1 = std::min(cp.numel, e0 + cp.chunk);
      read_both(e0, e1);
      acc.add(e0, e1 - e0, va.data(), vb.data(), cp.row_len);
      if ((is_index || quantized) && std::memcmp(va.data(), vb.data(), size_t(va.size())) != 0) {
        if (is_index && k > 0) index_analyze(ictx, p.ginfo.fmt, k, e0 / k, (e1 - e0) / k, va.data(), vb.data(), *tr.index);
        if (quantized) quant_analyze(qctx, p.ginfo.fmt, cp, e0, e1, va.data(), vb.data(), *tr.quant);
      }
    }
    tr.stats = acc.finish();
    if (tr.stats.bit_equal < tr.stats.n) {
      // Second pass, only for tensors that differ: the error sums over every element.
      StatsAccumulator sums(p.ginfo.fmt, p.ginfo.shape, StatsAccumulator::Mode::sums);
      for (int64_t e0 = 0; e0 < cp.numel; e0 += cp.chunk) {
        const int64_t e1 = std::min(cp.numel, e0 + cp.chunk);
        read_both(e0, e1);
        sums.add(e0, e1 - e0, va.data(), vb.data(), cp.row_len);
      }
      const TensorStats s2 = sums.finish();
      tr.stats.sum_d2 = s2.sum_d2, tr.stats.sum_a2 = s2.sum_a2, tr.stats.sum_b2 = s2.sum_b2, tr.stats.sum_ab = s2.sum_ab;
    }
    res.elements += tr.stats.n;
    tr.pass = tensor_passes(tr);
    if (!tr.pass) {
      tr.why = verdict_why(tr);
      const bool ulp_first = bud.kind == Budget::Kind::ulp && !tr.index;
      tr.first_text = elem_pair_text(tr.fmt, tr.shape, ulp_first ? tr.stats.first_over : tr.stats.first_diff);
      tr.worst_text = elem_pair_text(tr.fmt, tr.shape, tr.stats.worst);
      if (res.first_failure(tr.run) < 0) {
        tr.grid_rows = acc.grid_rows(), tr.grid_cols = acc.grid_cols();
        tr.grid_count = acc.grid_count(), tr.grid_max = acc.grid_max();
      }
    }
    res.tensors.push_back(std::move(tr));
  }

  // ---- scale mismatches onto their quantized tensors (same run) ----
  for (TensorResult& t : res.tensors)
    if (t.quant && !t.quant->scale.empty())
      for (const TensorResult& s : res.tensors)
        if (s.run == t.run && s.path == t.quant->scale && s.rule.budget.kind != Budget::Kind::ignore) {
          t.quant->scale_mismatch = s.stats.n - s.stats.bit_equal;
          t.quant->scale_max_steps = s.stats.max_steps;
        }

  // ---- per-layer summaries, in model order per run ----
  for (const std::string& run : res.runs) {
    std::map<std::string, size_t> at;
    for (const TensorResult& t : res.tensors) {
      if (t.run != run) continue;
      auto it = at.find(t.layer);
      if (it == at.end()) {
        it = at.emplace(t.layer, res.layers.size()).first;
        LayerSummary l;
        l.run = run, l.layer = t.layer;
        res.layers.push_back(l);
      }
      LayerSummary& l = res.layers[it->second];
      ++l.tensors;
      l.elements += t.stats.n;
      l.elements_bit_equal += t.stats.bit_equal;
      if (t.stats.bit_equal == t.stats.n) ++l.tensors_bit_equal;
      if (!t.pass) {
        ++l.tensors_failed;
        if (l.first_failed.empty()) l.first_failed = t.path;
      }
      l.max_steps = std::max(l.max_steps, t.stats.max_steps);
      const double nm = is_float_fmt(t.fmt) ? t.stats.nmse() : 0.0;
      if (l.worst_tensor.empty() || nm > l.max_nmse) l.worst_tensor = t.path, l.max_nmse = std::max(l.max_nmse, nm);
    }
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return res;
}

}  // namespace v4::compare
