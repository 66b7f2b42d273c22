// The HDF5 plumbing shared by writer and reader (h5_util.h): type tables, error text, paths, and the
// attribute encodings, written and read in one place so both sides agree on them.
#include "golden/h5_util.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "golden/tensor_io.h"

namespace v4::golden::h5 {

namespace {
// Bounds on attribute sizes, so a hostile header cannot make the reader allocate what the file does not
// hold: shapes and blocks have one entry per dimension (HDF5 allows 32); string attributes are names,
// hashes and paths.
constexpr int64_t kMaxI64sAttrLen = 64;
constexpr size_t kMaxStrAttrBytes = size_t(1) << 20;
}  // namespace

// ---- HDF5 types of the formats ----

H5Types h5_types(Storage s) {
  switch (s) {
    case Storage::f32: return {H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_NATIVE_FLOAT};
    case Storage::u16: return {H5T_STD_U16LE, H5T_STD_U16BE, H5T_NATIVE_UINT16};
    case Storage::u8: return {H5T_STD_U8LE, H5T_STD_U8BE, H5T_NATIVE_UINT8};
    case Storage::i32: return {H5T_STD_I32LE, H5T_STD_I32BE, H5T_NATIVE_INT32};
    case Storage::i64: return {H5T_STD_I64LE, H5T_STD_I64BE, H5T_NATIVE_INT64};
  }
  throw std::logic_error("h5_types: invalid Storage value");
}
hid_t fmt_file_type(Fmt f) { return h5_types(fmt_info(f).storage).le; }
hid_t fmt_mem_type(Fmt f) { return h5_types(fmt_info(f).storage).mem; }

std::string h5_type_name(hid_t type) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t bits = H5Tget_size(type) * 8;
  const std::string be = H5Tget_order(type) == H5T_ORDER_BE ? " (big-endian)" : "";
  switch (cls) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits) + be;
    case H5T_FLOAT: return "float" + std::to_string(bits) + be;
    case H5T_STRING: return "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum (numpy bool?)";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length";
    case H5T_REFERENCE: return "reference";
    default: return "HDF5 type class " + std::to_string(int(cls));
  }
}

bool h5_type_matches(hid_t type, Fmt f) {
  const H5Types t = h5_types(fmt_info(f).storage);
  return H5Tequal(type, t.le) > 0 || H5Tequal(type, t.be) > 0;
}

bool packed_rows(Fmt f, const std::vector<int64_t>& shape) { return f == Fmt::e2m1x2 && shape.size() == 1; }

// ---- handles and errors ----

Hid plist(hid_t cls) { return Hid(H5Pcreate(cls), H5Pclose); }

void hdf5_silence() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string hdf5_error_text() {
  std::string text;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* err, void* out) -> herr_t {
        if (n == 0 && err && err->desc) *static_cast<std::string*>(out) = err->desc;
        return 0;
      },
      &text);
  return text.empty() ? "unknown HDF5 error" : text;
}

void h5_check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error(what + ": " + hdf5_error_text());
}
void h5_check_id(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error(what + ": " + hdf5_error_text());
}

// ---- paths ----

std::vector<std::string> split_path(const std::string& p) {
  std::vector<std::string> parts;
  size_t i = (!p.empty() && p[0] == '/') ? 1 : 0;
  if (i >= p.size()) return {};
  while (true) {
    const size_t j = p.find('/', i);
    std::string part = p.substr(i, j == std::string::npos ? std::string::npos : j - i);
    if (part.empty() || part == "." || part == "..") return {};
    parts.push_back(std::move(part));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  return parts;
}

std::string join_path(const std::vector<std::string>& parts, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += "/" + parts[i];
  return s;
}

std::string canonical_path(const std::string& p) {
  const std::vector<std::string> parts = split_path(p);
  return parts.empty() ? p : join_path(parts, parts.size());
}

H5I_type_t object_type(hid_t file, const std::vector<std::string>& parts) {
  if (parts.empty()) return H5I_BADID;
  for (size_t n = 1; n <= parts.size(); ++n)
    if (H5Lexists(file, join_path(parts, n).c_str(), H5P_DEFAULT) <= 0) return H5I_BADID;
  Hid obj(H5Oopen(file, join_path(parts, parts.size()).c_str(), H5P_DEFAULT), H5Oclose);
  return obj.ok() ? H5Iget_type(obj) : H5I_BADID;
}

// ---- attributes: writing ----

namespace {

Hid vlen_utf8_type() {
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

}  // namespace

void write_str_attr(hid_t obj, const char* name, const std::string& value) {
  Hid type = vlen_utf8_type();
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  h5_check_id(attr, std::string("creating attribute ") + name);
  const char* p = value.c_str();
  h5_check(H5Awrite(attr, type, &p), std::string("writing attribute ") + name);
}

void write_i64s_attr(hid_t obj, const char* name, const std::vector<int64_t>& v) {
  const hsize_t n = v.size();
  Hid space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Hid attr(H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  h5_check_id(attr, std::string("creating attribute ") + name);
  if (!v.empty())  // a zero-size attribute (rank-0 logical_shape) has nothing to write
    h5_check(H5Awrite(attr, H5T_NATIVE_INT64, v.data()), std::string("writing attribute ") + name);
}

bool attr_reserved(std::string_view name) {
  return std::find(kReservedTensorAttrs.begin(), kReservedTensorAttrs.end(), name) != kReservedTensorAttrs.end();
}

// ---- attributes: reading ----

Hid open_attr(hid_t obj, const char* name, const Where& w) {
  const htri_t exists = H5Aexists(obj, name);
  if (exists < 0) w.fail(std::string("cannot look up attribute '") + name + "': " + hdf5_error_text());
  if (exists == 0) return Hid();
  Hid attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  if (!attr.ok()) w.fail(std::string("cannot open attribute '") + name + "': " + hdf5_error_text());
  return attr;
}

int64_t attr_npoints(hid_t attr) {
  Hid space(H5Aget_space(attr), H5Sclose);
  return int64_t(H5Sget_simple_extent_npoints(space));
}

namespace {

int attr_rank(hid_t attr) {
  Hid space(H5Aget_space(attr), H5Sclose);
  return H5Sget_simple_extent_ndims(space);
}

}  // namespace

bool attr_is_single_string(hid_t attr) {
  Hid ftype(H5Aget_type(attr), H5Tclose);
  return H5Tget_class(ftype) == H5T_STRING && attr_npoints(attr) == 1;
}

std::string str_attr_value(hid_t attr, const std::string& what, const Where& w) {
  Hid ftype(H5Aget_type(attr), H5Tclose);
  Hid mtype(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mtype, H5Tget_cset(ftype));  // HDF5 does not convert between ASCII and UTF-8
  if (H5Tis_variable_str(ftype) > 0) {
    H5Tset_size(mtype, H5T_VARIABLE);
    char* p = nullptr;
    if (H5Aread(attr, mtype, &p) < 0) w.fail("cannot read " + what + ": " + hdf5_error_text());
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const size_t n = H5Tget_size(ftype);
  if (n == 0 || n > kMaxStrAttrBytes) w.fail(what + " is a fixed-length string of " + std::to_string(n) + " bytes");
  H5Tset_size(mtype, n);
  H5Tset_strpad(mtype, H5Tget_strpad(ftype));
  std::string buf(n + 1, '\0');
  if (H5Aread(attr, mtype, buf.data()) < 0) w.fail("cannot read " + what + ": " + hdf5_error_text());
  buf.resize(std::strlen(buf.c_str()));
  if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  return buf;
}

namespace {

// An attribute of one HDF5 type class (`want` names it in the message), or an empty Hid when absent.
Hid open_attr_of_class(hid_t obj, const char* name, H5T_class_t cls, const char* want, const Where& w) {
  Hid attr = open_attr(obj, name, w);
  if (!attr.ok()) return attr;
  Hid ftype(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(ftype) != cls)
    w.fail(std::string("attribute '") + name + "' should be " + want + " but is stored as " + h5_type_name(ftype));
  return attr;
}

}  // namespace

std::optional<std::string> read_str_attr(hid_t obj, const char* name, const Where& w) {
  Hid attr = open_attr_of_class(obj, name, H5T_STRING, "a string", w);
  if (!attr.ok()) return std::nullopt;
  const std::string what = std::string("attribute '") + name + "'";
  if (attr_npoints(attr) != 1) w.fail(what + " should be a single string");
  return str_attr_value(attr, what, w);
}

std::optional<std::vector<int64_t>> read_i64s_attr(hid_t obj, const char* name, const Where& w) {
  Hid attr = open_attr_of_class(obj, name, H5T_INTEGER, "an integer array", w);
  if (!attr.ok()) return std::nullopt;
  const std::string what = std::string("attribute '") + name + "'";
  if (attr_rank(attr) > 1) w.fail(what + " should be a 1-D integer array");
  if (attr_npoints(attr) < 0 || attr_npoints(attr) > kMaxI64sAttrLen)
    w.fail(what + " has " + std::to_string(attr_npoints(attr)) + " entries (at most " + std::to_string(kMaxI64sAttrLen) + ")");
  std::vector<int64_t> v(size_t(attr_npoints(attr)));
  if (!v.empty() && H5Aread(attr, H5T_NATIVE_INT64, v.data()) < 0)
    w.fail("cannot read " + what + ": " + hdf5_error_text());
  return v;
}

}  // namespace v4::golden::h5
