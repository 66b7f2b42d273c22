// The in-memory tensor and format facts (reference/tensor.h).
#include "reference/tensor.h"

#include <limits>
#include <stdexcept>

namespace v4 {

std::optional<Fmt> fmt_parse(std::string_view s) {
  for (const FmtInfo& f : kFmtInfo)
    if (s == f.name) return f.fmt;
  return std::nullopt;
}

std::vector<int64_t> fmt_stored_shape(Fmt f, const std::vector<int64_t>& logical_shape) {
  std::vector<int64_t> s = logical_shape;
  if (!s.empty()) s.back() = fmt_stored_len(f, s.back());
  return s;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::optional<int64_t> checked_bytes(const std::vector<int64_t>& dims, int64_t elem_size) {
  int64_t n = elem_size;
  for (int64_t d : dims) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    n *= d;
  }
  return n;
}

Tensor Tensor::make(Fmt fmt, std::vector<int64_t> shape) {
  const auto bytes = checked_bytes(fmt_stored_shape(fmt, shape), int64_t(fmt_storage_size(fmt)));
  if (!bytes) throw std::invalid_argument("Tensor::make: bad shape " + shape_str(shape));
  Tensor t;
  t.fmt = fmt;
  t.shape = std::move(shape);
  t.data.assign(size_t(*bytes), 0);
  return t;
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t Tensor::stored_bytes() const {
  const auto bytes = checked_bytes(stored_shape(), int64_t(fmt_storage_size(fmt)));
  if (!bytes) throw std::invalid_argument("Tensor: bad shape " + shape_str(shape));
  return *bytes;
}

void Tensor::check_view_size(size_t elem_size) const {
  if (elem_size != fmt_storage_size(fmt))
    throw std::logic_error(std::string("Tensor::as<T>: sizeof(T) = ") + std::to_string(elem_size) + " but " +
                           fmt_name(fmt) + " is stored as " + fmt_storage_name(fmt));
}

}  // namespace v4
