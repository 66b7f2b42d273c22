// The in-memory tensor and the one table of per-format facts. A tensor is a logical format (Fmt), a
// logical shape and its raw little-endian storage bytes; low-precision data is held as raw codes
// (uint8/uint16), never widened. No HDF5 here: golden/ stores these, simulator/ and compare/ compute on
// them, reference/ components take raw pointers into them. docs/hdf5-tensors.md lists the formats.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "reference/formats.h"

namespace v4 {

// Formats and their storage types.
//   f32    float32                        bf16   uint16 raw codes
//   e4m3fn uint8 raw codes                e5m2   uint8 raw codes      ue8m0 uint8 raw codes
//   e2m1x2 uint8, two e2m1 codes per byte: logical element 2k of a row in the low nibble, 2k+1 in the
//          high nibble; the last stored dim is ceil(logical/2); an odd row's final high nibble is 0.
//   i32    int32                          i64    int64
enum class Fmt : uint8_t { f32, bf16, e4m3fn, e5m2, e2m1x2, ue8m0, i32, i64 };
inline constexpr size_t kFmtCount = 8;

// How a format's stored element is held (what HDF5 type it maps to in golden/).
enum class Storage : uint8_t { f32, u16, u8, i32, i64 };
// What a format's values are, for metrics: IEEE binary floats (ulp steps), small float codes (code
// steps), power-of-two scales (exponent steps), integers (differences).
enum class FmtKind : uint8_t { ieee, code, scale, integer };

struct FmtInfo {
  Fmt fmt;
  const char* name;          // the `format` attribute: "f32", "bf16", ...
  Storage storage;
  uint8_t storage_bytes;     // bytes per stored element
  const char* storage_name;  // "float32", "uint16", "uint8", "int32", "int64"
  FmtKind kind;
  uint8_t hex_digits;        // digits of one element's bit pattern in reports
  const char* steps_unit;    // the unit of a distance between two values of this format
};

inline constexpr std::array<FmtInfo, kFmtCount> kFmtInfo = {{
    {Fmt::f32, "f32", Storage::f32, 4, "float32", FmtKind::ieee, 8, "ulp (f32)"},
    {Fmt::bf16, "bf16", Storage::u16, 2, "uint16", FmtKind::ieee, 4, "ulp (bf16)"},
    {Fmt::e4m3fn, "e4m3fn", Storage::u8, 1, "uint8", FmtKind::code, 2, "code steps (e4m3fn)"},
    {Fmt::e5m2, "e5m2", Storage::u8, 1, "uint8", FmtKind::code, 2, "code steps (e5m2)"},
    {Fmt::e2m1x2, "e2m1x2", Storage::u8, 1, "uint8", FmtKind::code, 1, "code steps (e2m1x2)"},
    {Fmt::ue8m0, "ue8m0", Storage::u8, 1, "uint8", FmtKind::scale, 2, "exponent steps (ue8m0)"},
    {Fmt::i32, "i32", Storage::i32, 4, "int32", FmtKind::integer, 8, "integer difference (i32)"},
    {Fmt::i64, "i64", Storage::i64, 8, "int64", FmtKind::integer, 16, "integer difference (i64)"},
}};
static_assert([] {
  for (size_t i = 0; i < kFmtCount; ++i)
    if (size_t(kFmtInfo[i].fmt) != i) return false;
  return true;
}(), "kFmtInfo is indexed by Fmt: one row per enumerator, in enumerator order");

inline constexpr std::array<Fmt, kFmtCount> kAllFmts = {Fmt::f32,    Fmt::bf16,  Fmt::e4m3fn, Fmt::e5m2,
                                                         Fmt::e2m1x2, Fmt::ue8m0, Fmt::i32,    Fmt::i64};

constexpr const FmtInfo& fmt_info(Fmt f) { return kFmtInfo[size_t(f)]; }
constexpr const char* fmt_name(Fmt f) { return fmt_info(f).name; }
constexpr size_t fmt_storage_size(Fmt f) { return fmt_info(f).storage_bytes; }
constexpr const char* fmt_storage_name(Fmt f) { return fmt_info(f).storage_name; }
std::optional<Fmt> fmt_parse(std::string_view s);  // inverse of fmt_name; nullopt if unknown

// Calls fn(std::integral_constant<Fmt, F>{}) for the runtime format f: the one place that turns a
// runtime Fmt into a compile-time one (metrics kernels are templates over the format).
template <class Fn>
decltype(auto) fmt_visit(Fmt f, Fn&& fn) {
  switch (f) {
    case Fmt::f32: return fn(std::integral_constant<Fmt, Fmt::f32>{});
    case Fmt::bf16: return fn(std::integral_constant<Fmt, Fmt::bf16>{});
    case Fmt::e4m3fn: return fn(std::integral_constant<Fmt, Fmt::e4m3fn>{});
    case Fmt::e5m2: return fn(std::integral_constant<Fmt, Fmt::e5m2>{});
    case Fmt::e2m1x2: return fn(std::integral_constant<Fmt, Fmt::e2m1x2>{});
    case Fmt::ue8m0: return fn(std::integral_constant<Fmt, Fmt::ue8m0>{});
    case Fmt::i32: return fn(std::integral_constant<Fmt, Fmt::i32>{});
    case Fmt::i64: break;
  }
  static_assert(kFmtCount == 8, "fmt_visit names every format");
  return fn(std::integral_constant<Fmt, Fmt::i64>{});
}

// Stored elements of a row of n logical elements: the bytes of a packed e2m1x2 row (two codes per byte,
// reference/formats.h defines the packing); n for every other format.
constexpr int64_t fmt_stored_len(Fmt f, int64_t n) { return f == Fmt::e2m1x2 ? fp4_e2m1_row_bytes(n) : n; }
// Bytes of one stored row of n logical elements.
constexpr int64_t fmt_row_bytes(Fmt f, int64_t n) { return fmt_stored_len(f, n) * int64_t(fmt_storage_size(f)); }
// Stored shape of a logical shape: equal, except e2m1x2 halves the last dim (ceil). A rank-0 e2m1x2
// tensor is one code in one byte.
std::vector<int64_t> fmt_stored_shape(Fmt f, const std::vector<int64_t>& logical_shape);

std::string shape_str(const std::vector<int64_t>& s);  // "[2, 3]"

// ---------------------------------------------------------------------------------------------
// An in-memory tensor: raw storage bytes in C order, exactly as stored in a file.
struct Tensor {
  Fmt fmt = Fmt::f32;
  std::vector<int64_t> shape;  // logical shape
  std::vector<uint8_t> data;   // raw little-endian storage bytes, C order, size == stored_bytes()

  static Tensor make(Fmt fmt, std::vector<int64_t> shape);  // zeroed, right byte size
  int64_t numel() const;                                    // logical elements (1 for rank 0)
  std::vector<int64_t> stored_shape() const { return fmt_stored_shape(fmt, shape); }
  int64_t stored_bytes() const;

  // Typed views of the storage; throw std::logic_error unless sizeof(T) is the format's storage size
  // (checked in every build type, not an assert compiled out by NDEBUG).
  template <class T>
  T* as() {
    check_view_size(sizeof(T));
    return reinterpret_cast<T*>(data.data());
  }
  template <class T>
  const T* as() const {
    check_view_size(sizeof(T));
    return reinterpret_cast<const T*>(data.data());
  }

 private:
  void check_view_size(size_t elem_size) const;
};

// Product of non-negative dims times elem_size, or nullopt on a negative dim or int64 overflow.
std::optional<int64_t> checked_bytes(const std::vector<int64_t>& dims, int64_t elem_size);

}  // namespace v4
