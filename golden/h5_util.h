// Internal to golden/ (layers above use tensor_io.h): the HDF5 plumbing shared by the writer
// (h5_writer.cpp) and the reader (h5_reader.cpp). The HDF5 types of each storage kind, an owning handle
// guard, one-line HDF5 error text, dataset path splitting and lookup, the dim-0 packing of rank-1 e2m1x2,
// and how attributes are encoded on disk: written (variable-length UTF-8 strings, int64 arrays and
// scalars) and read back validated, every problem an InputError about a `Where`. HDF5 C API only.
#pragma once
#include <hdf5.h>

#include <bit>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "golden/input_error.h"
#include "reference/tensor.h"

namespace v4::golden::h5 {

static_assert(std::endian::native == std::endian::little, "storage bytes are little-endian, as is the host");
static_assert(std::is_same_v<hid_t, int64_t>, "hid_t is kept as int64_t in tensor_io.h");

// ---- HDF5 types of the formats ----

// HDF5 types of each storage kind (reference/tensor.h): the file type we write (little-endian), its
// big-endian twin (accepted on read, converted by HDF5), and the memory type. The memory type equals the
// file type on this little-endian host, so reading our own files converts nothing.
struct H5Types {
  hid_t le, be, mem;
};
H5Types h5_types(Storage s);
hid_t fmt_file_type(Fmt f);
hid_t fmt_mem_type(Fmt f);

// "float32", "uint8", "int16 (big-endian)", "string", ...: how a storage type is named in messages.
std::string h5_type_name(hid_t type);
// Whether a storage type holds exactly the values of the format's storage type (either byte order).
bool h5_type_matches(hid_t type, Fmt f);

// Rank-1 e2m1x2 packs two rows (elements) per stored byte along dim 0.
bool packed_rows(Fmt f, const std::vector<int64_t>& shape);

// ---- handles and errors ----

// Owns one HDF5 identifier; closes it with the matching H5*close.
class Hid {
 public:
  using Closer = herr_t (*)(hid_t);
  Hid() = default;
  Hid(hid_t id, Closer close) : id_(id), close_(close) {}
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) reset(), id_ = std::exchange(o.id_, -1), close_ = o.close_;
    return *this;
  }
  ~Hid() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

Hid plist(hid_t cls);

// HDF5 prints its error stack to stderr by default; we report one line of our own instead.
void hdf5_silence();
// The innermost (most specific) message of the current HDF5 error stack, e.g. "truncated file: eof = ...".
std::string hdf5_error_text();
// std::runtime_error "<what>: <HDF5 error text>" on a negative status or identifier.
void h5_check(herr_t status, const std::string& what);
void h5_check_id(hid_t id, const std::string& what);

// ---- paths ----

// "/a/b/c" -> {"a","b","c"}; a missing leading '/' is allowed. Empty on a malformed path.
std::vector<std::string> split_path(const std::string& p);
std::string join_path(const std::vector<std::string>& parts, size_t n);
// A dataset path as "/a/b/c" (the form messages name it by); the path as given when it is malformed.
std::string canonical_path(const std::string& p);
// Object type at `path` (H5I_GROUP, H5I_DATASET, ...), or H5I_BADID when absent. Walks the prefixes so
// that a missing intermediate group is "absent" rather than an HDF5 error.
H5I_type_t object_type(hid_t file, const std::vector<std::string>& parts);

// ---- attributes: writing ----

// Variable-length UTF-8 strings: h5py reads them as str (fixed-length ones come back as bytes).
void write_str_attr(hid_t obj, const char* name, const std::string& value);
void write_i64s_attr(hid_t obj, const char* name, const std::vector<int64_t>& v);

template <class T>
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  h5_check_id(attr, std::string("creating attribute ") + name);
  h5_check(H5Awrite(attr, mem_type, &value), std::string("writing attribute ") + name);
}

// Dataset attribute names tensor_io itself writes and interprets (kReservedTensorAttrs).
bool attr_reserved(std::string_view name);

// ---- attributes: reading (every problem is an InputError about `where`) ----

struct Where {
  const std::string& file;
  std::string dataset;  // empty: root attributes
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(file, dataset, problem); }
};

// The attribute, or an empty Hid when absent.
Hid open_attr(hid_t obj, const char* name, const Where& w);
int64_t attr_npoints(hid_t attr);
bool attr_is_single_string(hid_t attr);
// The value of an open single-string attribute, fixed- or variable-length, ASCII or UTF-8.
std::string str_attr_value(hid_t attr, const std::string& what, const Where& w);
std::optional<std::string> read_str_attr(hid_t obj, const char* name, const Where& w);
// An integer array attribute (any integer storage type; rank 0 or 1), read as int64.
std::optional<std::vector<int64_t>> read_i64s_attr(hid_t obj, const char* name, const Where& w);

}  // namespace v4::golden::h5
