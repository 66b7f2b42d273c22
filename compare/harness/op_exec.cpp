// Running golden's CPU ops on candidate inputs, the batch-dimension table, and row helpers (op_exec.h).
#include "compare/harness/op_exec.h"

#include "reference/pmath_table.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "compare/metrics.h"
#include "golden/ops.h"
#include "reference/pmath_table.h"

namespace v4::harness {

Outputs run_cpu_op(const std::string& op, const Inputs& in, Recipe r) {
  const golden::OpSpec* spec = golden::op_find(op);
  if (!spec) throw std::invalid_argument("unknown op '" + op + "' (see `v4oracle list`)");
  std::vector<golden::NamedTensor> given;
  for (const auto& [name, t] : in) given.push_back({name, *t});
  const golden::OpInputs oi("candidate inputs", nullptr, std::move(given));
  Outputs out;
  for (golden::NamedTensor& nt : spec->run(oi, r)) out.emplace_back(nt.name, std::move(nt.t));
  return out;
}

const std::vector<BatchLayout>& batch_layouts() {
  static const std::vector<BatchLayout> v = [] {
    std::vector<BatchLayout> t = {
        {"fp8_gemm", "M", {"a", "a_scale"}, {"c"}},
        {"fp4_gemm", "M", {"a", "a_scale"}, {"c"}},
        {"bf16_gemm", "M", {"a"}, {"c"}},
        {"f32_gemm", "M", {"a"}, {"c"}},
        {"act_quant", "rows", {"x"}, {"q", "s", "y"}},
        {"fp4_act_quant", "rows", {"x"}, {"q", "s", "y"}},
        {"hadamard", "rows", {"x"}, {"y"}},
        {"rmsnorm", "rows", {"x"}, {"y"}},
    };
    for (const char* cast : {"bf16", "fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "ue8m0"}) t.push_back({cast, "n", {"x"}, {"codes", "values"}});
    for (const PmathEntry& f : kPmathTable) t.push_back({f.name, "n", {"x"}, {"y"}});
    return t;
  }();
  return v;
}

const BatchLayout* batch_layout(const std::string& op) {
  for (const BatchLayout& b : batch_layouts())
    if (b.op == op) return &b;
  return nullptr;
}

int64_t rows_of(const Tensor& t) { return t.shape.empty() ? 1 : t.shape[0]; }

namespace {
bool nibble_rows(const Tensor& t) { return t.fmt == Fmt::e2m1x2 && t.shape.size() == 1; }
}  // namespace

Tensor gather_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  if (t.shape.empty()) throw std::logic_error("gather_rows: a scalar has no rows");
  std::vector<int64_t> shape = t.shape;
  shape[0] = int64_t(rows.size());
  Tensor out = Tensor::make(t.fmt, shape);
  const int64_t n = t.shape[0];
  for (int64_t r : rows)
    if (r < 0 || r >= n) throw std::logic_error("gather_rows: row out of range");
  if (nibble_rows(t)) {
    for (size_t i = 0; i < rows.size(); ++i) fp4_e2m1_set(out.data.data(), int64_t(i), fp4_e2m1_get(t.data.data(), rows[i]));
    return out;
  }
  const size_t row_bytes = n ? t.data.size() / size_t(n) : 0;
  for (size_t i = 0; i < rows.size(); ++i)
    std::memcpy(out.data.data() + i * row_bytes, t.data.data() + size_t(rows[i]) * row_bytes, row_bytes);
  return out;
}

Tensor concat_rows(const Tensor& a, const Tensor& b) {
  if (a.fmt != b.fmt || a.shape.empty() || a.shape.size() != b.shape.size() ||
      !std::equal(a.shape.begin() + 1, a.shape.end(), b.shape.begin() + 1))
    throw std::invalid_argument("concat_rows: " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not stack");
  std::vector<int64_t> shape = a.shape;
  shape[0] += b.shape[0];
  Tensor out = Tensor::make(a.fmt, shape);
  if (nibble_rows(a)) {
    for (int64_t i = 0; i < a.shape[0]; ++i) fp4_e2m1_set(out.data.data(), i, fp4_e2m1_get(a.data.data(), i));
    for (int64_t i = 0; i < b.shape[0]; ++i) fp4_e2m1_set(out.data.data(), a.shape[0] + i, fp4_e2m1_get(b.data.data(), i));
    return out;
  }
  std::memcpy(out.data.data(), a.data.data(), a.data.size());
  std::memcpy(out.data.data() + a.data.size(), b.data.data(), b.data.size());
  return out;
}

int64_t count_differ(const Tensor& a, const Tensor& b, int64_t* first) {
  if (a.fmt != b.fmt || a.shape != b.shape) throw std::logic_error("count_differ: tensors of different format or shape");
  int64_t n = 0, f = -1;
  if (a.fmt == Fmt::e2m1x2) {
    const int64_t cols = a.shape.empty() ? 1 : a.shape.back(), rows = cols ? a.numel() / cols : 0;
    const int64_t rb = fmt_row_bytes(a.fmt, cols);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        if (fp4_e2m1_get(a.data.data() + r * rb, c) != fp4_e2m1_get(b.data.data() + r * rb, c)) {
          if (f < 0) f = r * cols + c;
          ++n;
        }
  } else {
    const size_t es = fmt_storage_size(a.fmt);
    for (size_t i = 0; i * es < a.data.size(); ++i)
      if (std::memcmp(a.data.data() + i * es, b.data.data() + i * es, es) != 0) {
        if (f < 0) f = int64_t(i);
        ++n;
      }
  }
  if (first) *first = f;
  return n;
}

int64_t count_differ(const Outputs& a, const Outputs& b, std::string* first_output, int64_t* first_index) {
  if (a.size() != b.size()) throw std::logic_error("count_differ: different numbers of outputs");
  int64_t total = 0;
  if (first_index) *first_index = -1;
  for (const auto& [name, ta] : a) {
    const Tensor* tb = nullptr;
    for (const auto& [nb, t] : b)
      if (nb == name) tb = &t;
    if (!tb) throw std::logic_error("count_differ: output " + name + " missing");
    int64_t f = -1;
    const int64_t n = count_differ(ta, *tb, &f);
    if (n && total == 0) {
      if (first_output) *first_output = name;
      if (first_index) *first_index = f;
    }
    total += n;
  }
  return total;
}

namespace {
std::string element_text(const Tensor& t, int64_t flat) {
  const int64_t last = t.shape.empty() ? 1 : t.shape.back();
  const int64_t row_len = t.fmt == Fmt::e2m1x2 && t.shape.size() >= 2 && last % 2 ? last : 0;
  const compare::Elem e = compare::elem_read(t.fmt, t.data.data(), flat, row_len);
  return compare::bits_hex(t.fmt, e.bits) + " (" + compare::elem_value_text(t.fmt, e) + ")";
}
const Tensor& output(const Outputs& o, const std::string& name) {
  for (const auto& [n, t] : o)
    if (n == name) return t;
  throw std::logic_error("output " + name + " missing");
}
}  // namespace

std::string element_pair_text(const Outputs& a, const Outputs& b, const std::string& name, int64_t flat) {
  return element_text(output(a, name), flat) + " vs " + element_text(output(b, name), flat);
}

}  // namespace v4::harness
