// HDF5 tensor IO (see tensor_io.h): formats and storage types, the atomic writer and the
// validating reader. Only the HDF5 C API is used. Reproducible bytes come from: no object timestamps,
// libver bounds pinned to the 1.8 format, contiguous layout allocated at creation without fill writes,
// and a fixed order of metadata operations per dataset (create, format, logical_shape, scale, block,
// extra attributes in their given order, data, sha256). Datasets track attribute creation order, so the
// reader returns the extra attributes in the order they were written.
#include "golden/tensor_io.h"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

namespace v4::golden {

static_assert(std::endian::native == std::endian::little, "storage bytes are little-endian, as is the host");
static_assert(std::is_same_v<hid_t, int64_t>, "hid_t is kept as int64_t in tensor_io.h");

// =============================================================================================
// HDF5 types of the formats
// =============================================================================================

namespace {

// HDF5 types of each storage kind (reference/tensor.h): the file type we write (little-endian), its
// big-endian twin (accepted on read, converted by HDF5), and the memory type. The memory type equals the
// file type on this little-endian host, so reading our own files converts nothing.
struct H5Types {
  hid_t le, be, mem;
};
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

}  // namespace

// =============================================================================================
// HDF5 plumbing
// =============================================================================================

namespace {

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

Hid plist(hid_t cls) { return Hid(H5Pcreate(cls), H5Pclose); }

// HDF5 prints its error stack to stderr by default; we report one line of our own instead.
void hdf5_silence() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// The innermost (most specific) message of the current HDF5 error stack, e.g. "truncated file: eof = ...".
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

// "float32", "uint8", "int16 (big-endian)", "string", ...: how a storage type is named in messages.
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

// Whether a storage type holds exactly the values of the format's storage type (either byte order).
bool h5_type_matches(hid_t type, Fmt f) {
  const H5Types t = h5_types(fmt_info(f).storage);
  return H5Tequal(type, t.le) > 0 || H5Tequal(type, t.be) > 0;
}

// "/a/b/c" -> {"a","b","c"}; a missing leading '/' is allowed. Empty on a malformed path.
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

// ---- attributes: writing ----

Hid vlen_utf8_type() {
  Hid t(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

void h5_check(herr_t status, const std::string& what) {
  if (status < 0) throw std::runtime_error(what + ": " + hdf5_error_text());
}
void h5_check_id(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error(what + ": " + hdf5_error_text());
}

// Variable-length UTF-8 strings: h5py reads them as str (fixed-length ones come back as bytes).
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

template <class T>
void write_scalar_attr(hid_t obj, const char* name, hid_t file_type, hid_t mem_type, T value) {
  Hid space(H5Screate(H5S_SCALAR), H5Sclose);
  Hid attr(H5Acreate2(obj, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  h5_check_id(attr, std::string("creating attribute ") + name);
  h5_check(H5Awrite(attr, mem_type, &value), std::string("writing attribute ") + name);
}

// ---- attributes: reading (every problem is an InputError about `where`) ----

struct Where {
  const std::string& file;
  std::string dataset;  // empty: root attributes
  [[noreturn]] void fail(const std::string& problem) const { throw InputError(file, dataset, problem); }
};

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
int attr_rank(hid_t attr) {
  Hid space(H5Aget_space(attr), H5Sclose);
  return H5Sget_simple_extent_ndims(space);
}

bool attr_is_single_string(hid_t attr) {
  Hid ftype(H5Aget_type(attr), H5Tclose);
  return H5Tget_class(ftype) == H5T_STRING && attr_npoints(attr) == 1;
}

// The value of an open single-string attribute, fixed- or variable-length, ASCII or UTF-8.
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
  H5Tset_size(mtype, n);
  H5Tset_strpad(mtype, H5Tget_strpad(ftype));
  std::string buf(n + 1, '\0');
  if (H5Aread(attr, mtype, buf.data()) < 0) w.fail("cannot read " + what + ": " + hdf5_error_text());
  buf.resize(std::strlen(buf.c_str()));
  if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  return buf;
}

// An attribute of one HDF5 type class (`want` names it in the message), or an empty Hid when absent.
Hid open_attr_of_class(hid_t obj, const char* name, H5T_class_t cls, const char* want, const Where& w) {
  Hid attr = open_attr(obj, name, w);
  if (!attr.ok()) return attr;
  Hid ftype(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(ftype) != cls)
    w.fail(std::string("attribute '") + name + "' should be " + want + " but is stored as " + h5_type_name(ftype));
  return attr;
}

std::optional<std::string> read_str_attr(hid_t obj, const char* name, const Where& w) {
  Hid attr = open_attr_of_class(obj, name, H5T_STRING, "a string", w);
  if (!attr.ok()) return std::nullopt;
  const std::string what = std::string("attribute '") + name + "'";
  if (attr_npoints(attr) != 1) w.fail(what + " should be a single string");
  return str_attr_value(attr, what, w);
}

// An integer array attribute (any integer storage type; rank 0 or 1), read as int64.
std::optional<std::vector<int64_t>> read_i64s_attr(hid_t obj, const char* name, const Where& w) {
  Hid attr = open_attr_of_class(obj, name, H5T_INTEGER, "an integer array", w);
  if (!attr.ok()) return std::nullopt;
  const std::string what = std::string("attribute '") + name + "'";
  if (attr_rank(attr) > 1) w.fail(what + " should be a 1-D integer array");
  std::vector<int64_t> v(size_t(attr_npoints(attr)));
  if (!v.empty() && H5Aread(attr, H5T_NATIVE_INT64, v.data()) < 0)
    w.fail("cannot read " + what + ": " + hdf5_error_text());
  return v;
}

// ---- extra attributes (TensorAttrs::extra) ----

herr_t collect_attr_name(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->emplace_back(name);
  return 0;
}

// Attribute names of a dataset in creation order when it tracks it, else in name order.
std::vector<std::string> dataset_attr_names(hid_t dset, const Where& w) {
  std::vector<std::string> names;
  Hid dcpl(H5Dget_create_plist(dset), H5Pclose);
  unsigned flags = 0;
  if (dcpl.ok() && H5Pget_attr_creation_order(dcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED)) {
    hsize_t idx = 0;
    if (H5Aiterate2(dset, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_attr_name, &names) >= 0) return names;
    names.clear();  // tracked but not indexed, in dense storage: fall back to name order
  }
  hsize_t idx = 0;
  if (H5Aiterate2(dset, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names) < 0)
    w.fail("cannot list the attributes: " + hdf5_error_text());
  return names;
}

bool attr_reserved(std::string_view name) {
  return std::find(kReservedTensorAttrs.begin(), kReservedTensorAttrs.end(), name) != kReservedTensorAttrs.end();
}

// TensorAttrs::extra of a dataset: its single-string attributes with unreserved names.
std::vector<std::pair<std::string, std::string>> read_extra_attrs(hid_t dset, const Where& w) {
  std::vector<std::pair<std::string, std::string>> extra;
  for (const std::string& name : dataset_attr_names(dset, w)) {
    if (attr_reserved(name)) continue;
    Hid attr = open_attr(dset, name.c_str(), w);
    if (attr.ok() && attr_is_single_string(attr))
      extra.emplace_back(name, str_attr_value(attr, "attribute '" + name + "'", w));
  }
  return extra;
}

// What H5Writer accepts as an extra attribute name: non-empty, not reserved (and, in one list, not repeated).
void check_extra_attr_name(const std::string& dataset, const std::string& name) {
  if (name.empty()) throw std::invalid_argument("H5Writer: " + dataset + ": empty attribute name");
  if (attr_reserved(name))
    throw std::invalid_argument("H5Writer: " + dataset + ": attribute '" + name + "' is reserved for tensor_io");
}
void check_extra_attrs(const std::string& dataset, const std::vector<std::pair<std::string, std::string>>& extra) {
  for (size_t i = 0; i < extra.size(); ++i) {
    check_extra_attr_name(dataset, extra[i].first);
    for (size_t j = 0; j < i; ++j)
      if (extra[j].first == extra[i].first)
        throw std::invalid_argument("H5Writer: " + dataset + ": attribute '" + extra[i].first + "' given twice");
  }
}

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// ---- groups ----

Hid group_create_plist() {
  Hid gcpl = plist(H5P_GROUP_CREATE);
  H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_obj_track_times(gcpl, false);
  return gcpl;
}

// Object type at `path` (H5I_GROUP, H5I_DATASET, ...), or H5I_BADID when absent. Walks the prefixes so
// that a missing intermediate group is "absent" rather than an HDF5 error.
H5I_type_t object_type(hid_t file, const std::vector<std::string>& parts) {
  if (parts.empty()) return H5I_BADID;
  for (size_t n = 1; n <= parts.size(); ++n)
    if (H5Lexists(file, join_path(parts, n).c_str(), H5P_DEFAULT) <= 0) return H5I_BADID;
  Hid obj(H5Oopen(file, join_path(parts, parts.size()).c_str(), H5P_DEFAULT), H5Oclose);
  return obj.ok() ? H5Iget_type(obj) : H5I_BADID;
}

}  // namespace

// =============================================================================================
// H5Writer
// =============================================================================================

H5Writer::H5Writer(std::string final_path) : final_path_(std::move(final_path)) {
  hdf5_silence();
  temp_path_ = final_path_ + ".tmp." + std::to_string(long(::getpid()));
  const std::string dir = parent_dir(final_path_);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(final_path_, "", "cannot create the temporary output file " + temp_path_ + ": directory " + dir +
                                          ": " + std::strerror(errno));
  Hid fcpl = plist(H5P_FILE_CREATE);
  H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_obj_track_times(fcpl, false);  // the root group's object header: no timestamps
  Hid fapl = plist(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);  // one fixed on-disk format version
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  file_ = H5Fcreate(temp_path_.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  if (file_ < 0)
    throw InputError(final_path_, "", "cannot create the temporary output file " + temp_path_ + ": " +
                                          hdf5_error_text());
}

H5Writer::~H5Writer() {
  if (!committed_) discard();
}

void H5Writer::discard() noexcept {
  if (file_ >= 0) H5Fclose(file_);  // strong close degree: closes every object still open
  file_ = -1;
  ::unlink(temp_path_.c_str());
}

void H5Writer::require_open(const char* what) const {
  if (file_ < 0) throw std::logic_error(std::string("H5Writer::") + what + ": " + final_path_ + " already committed");
}

int64_t H5Writer::create_dataset(const std::string& path, Fmt fmt, const std::vector<int64_t>& shape,
                                 const TensorAttrs& attrs) {
  require_open("write");
  const std::vector<std::string> parts = split_path(path);
  if (parts.empty()) throw std::invalid_argument("H5Writer: malformed dataset path '" + path + "'");
  const std::string full = join_path(parts, parts.size());
  if (!checked_bytes(shape, 1)) throw std::invalid_argument("H5Writer: " + full + ": bad shape " + shape_str(shape));
  if (!attrs.block.empty()) {
    if (attrs.block.size() != shape.size())
      throw std::invalid_argument("H5Writer: " + full + ": block " + shape_str(attrs.block) + " has not the rank of " +
                                  shape_str(shape));
    for (int64_t b : attrs.block)
      if (b <= 0) throw std::invalid_argument("H5Writer: " + full + ": block entries must be positive");
  }
  check_extra_attrs(full, attrs.extra);

  // Intermediate groups, each tracking link creation order.
  Hid gcpl = group_create_plist();
  for (size_t n = 1; n < parts.size(); ++n) {
    const std::string g = join_path(parts, n);
    const H5I_type_t t = object_type(file_, {parts.begin(), parts.begin() + long(n)});
    if (t == H5I_GROUP) continue;
    if (t != H5I_BADID) throw std::invalid_argument("H5Writer: " + g + " exists and is not a group");
    Hid grp(H5Gcreate2(file_, g.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
    h5_check_id(grp, "H5Writer: creating group " + g);
  }
  if (object_type(file_, parts) != H5I_BADID)
    throw std::invalid_argument("H5Writer: " + full + " already exists");

  const std::vector<int64_t> stored = fmt_stored_shape(fmt, shape);
  const std::vector<hsize_t> dims(stored.begin(), stored.end());
  Hid space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
            H5Sclose);
  Hid dcpl = plist(H5P_DATASET_CREATE);
  H5Pset_layout(dcpl, H5D_CONTIGUOUS);
  H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);  // file layout independent of when rows arrive
  H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);    // every byte is written by us (finish() checks)
  H5Pset_obj_track_times(dcpl, false);
  H5Pset_attr_creation_order(dcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);  // extra attrs keep their order
  hid_t dset = H5Dcreate2(file_, full.c_str(), fmt_file_type(fmt), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  h5_check_id(dset, "H5Writer: creating dataset " + full);
  try {
    write_str_attr(dset, "format", fmt_name(fmt));
    write_i64s_attr(dset, "logical_shape", shape);
    if (!attrs.scale.empty()) write_str_attr(dset, "scale", attrs.scale);
    if (!attrs.block.empty()) write_i64s_attr(dset, "block", attrs.block);
    for (const auto& [name, value] : attrs.extra) write_str_attr(dset, name.c_str(), value);
  } catch (...) {
    H5Dclose(dset);
    throw;
  }
  return dset;
}

namespace {

// An odd e2m1x2 row ends in a half-used byte whose high nibble must be 0 (so identical logical data
// always has identical bytes and hash). `bytes` holds whole stored rows of `row_bytes` each.
void e2m1x2_check_padding(const std::string& path, const uint8_t* bytes, int64_t nbytes, int64_t row_bytes) {
  for (int64_t end = row_bytes; end <= nbytes && row_bytes > 0; end += row_bytes)
    if (bytes[end - 1] >> 4)
      throw std::invalid_argument("H5Writer: " + path + ": e2m1x2 row with an odd length has a non-zero padding nibble");
}

}  // namespace

void H5Writer::write(const std::string& path, const Tensor& t, const TensorAttrs& attrs) {
  if (int64_t(t.data.size()) != t.stored_bytes())
    throw std::invalid_argument("H5Writer: " + path + ": " + std::to_string(t.data.size()) + " data bytes for " +
                                fmt_name(t.fmt) + " " + shape_str(t.shape) + ", which needs " +
                                std::to_string(t.stored_bytes()));
  if (t.fmt == Fmt::e2m1x2 && (t.shape.empty() || t.shape.back() % 2 != 0)) {
    const std::vector<int64_t> stored = t.stored_shape();
    e2m1x2_check_padding(path, t.data.data(), int64_t(t.data.size()), stored.empty() ? 1 : stored.back());
  }
  Hid dset(create_dataset(path, t.fmt, t.shape, attrs), H5Dclose);
  try {
    if (!t.data.empty())
      h5_check(H5Dwrite(dset, fmt_mem_type(t.fmt), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()),
               "H5Writer: writing " + path);
    write_str_attr(dset, "sha256", sha256_hex(t.data.data(), t.data.size()));
  } catch (...) {
    poisoned_ = true;  // a dataset without its data or hash must never be committed
    throw;
  }
}

H5DatasetStream H5Writer::begin_dataset(const std::string& path, Fmt fmt, std::vector<int64_t> shape,
                                        const TensorAttrs& attrs) {
  if (shape.empty()) throw std::invalid_argument("H5Writer::begin_dataset: " + path + ": rank 0 (use write)");
  const hid_t dset = create_dataset(path, fmt, shape, attrs);
  ++open_streams_;
  return H5DatasetStream(this, join_path(split_path(path), split_path(path).size()), fmt, std::move(shape), dset);
}

void H5Writer::set_root_attr(const std::string& name, const std::string& value) {
  require_open("set_root_attr");
  if (H5Aexists(file_, name.c_str()) > 0) h5_check(H5Adelete(file_, name.c_str()), "H5Writer: replacing " + name);
  write_str_attr(file_, name.c_str(), value);
}
void H5Writer::set_root_attr(const std::string& name, int64_t value) {
  require_open("set_root_attr");
  if (H5Aexists(file_, name.c_str()) > 0) h5_check(H5Adelete(file_, name.c_str()), "H5Writer: replacing " + name);
  write_scalar_attr(file_, name.c_str(), H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}
void H5Writer::set_root_attr(const std::string& name, double value) {
  require_open("set_root_attr");
  if (H5Aexists(file_, name.c_str()) > 0) h5_check(H5Adelete(file_, name.c_str()), "H5Writer: replacing " + name);
  write_scalar_attr(file_, name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

void H5Writer::set_dataset_attr(const std::string& dataset, const std::string& name, const std::string& value) {
  require_open("set_dataset_attr");
  const std::vector<std::string> parts = split_path(dataset);
  const std::string full = parts.empty() ? dataset : join_path(parts, parts.size());
  check_extra_attr_name(full, name);
  if (object_type(file_, parts) != H5I_DATASET) throw std::invalid_argument("H5Writer: no dataset " + full);
  Hid dset(H5Dopen2(file_, full.c_str(), H5P_DEFAULT), H5Dclose);
  h5_check_id(dset, "H5Writer: opening dataset " + full);
  try {
    if (H5Aexists(dset, name.c_str()) > 0) h5_check(H5Adelete(dset, name.c_str()), "H5Writer: replacing " + name);
    write_str_attr(dset, name.c_str(), value);
  } catch (...) {
    poisoned_ = true;  // the attribute may be gone without its replacement
    throw;
  }
}

namespace {

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) throw std::runtime_error("cannot open " + path + " to fsync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error("fsync " + path + ": " + std::strerror(err));
}

}  // namespace

void H5Writer::commit() {
  require_open("commit");
  if (open_streams_ > 0) throw std::logic_error("H5Writer::commit: " + final_path_ + ": a dataset stream is unfinished");
  if (poisoned_)
    throw std::logic_error("H5Writer::commit: " + final_path_ +
                           ": a dataset is incomplete (a stream dropped before finish(), or a failed write)");
  try {
    h5_check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "H5Writer: flushing " + temp_path_);
    const herr_t closed = H5Fclose(file_);
    file_ = -1;
    h5_check(closed, "H5Writer: closing " + temp_path_);
    fsync_path(temp_path_, O_RDONLY);
    if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      throw std::runtime_error("H5Writer: renaming " + temp_path_ + " to " + final_path_ + ": " + std::strerror(errno));
  } catch (...) {
    discard();
    throw;
  }
  committed_ = true;
  try {
    fsync_path(parent_dir(final_path_), O_RDONLY | O_DIRECTORY);  // make the rename itself durable
  } catch (const std::runtime_error&) {
    // The file is complete and in place; a directory that cannot be fsynced (some FUSE mounts) is not an error.
  }
}

// =============================================================================================
// H5DatasetStream
// =============================================================================================

H5DatasetStream::H5DatasetStream(H5Writer* w, std::string path, Fmt fmt, std::vector<int64_t> shape, int64_t dset)
    : writer_(w), path_(std::move(path)), fmt_(fmt), shape_(std::move(shape)), dset_(dset) {}

H5DatasetStream::H5DatasetStream(H5DatasetStream&& o) noexcept
    : writer_(std::exchange(o.writer_, nullptr)),
      path_(std::move(o.path_)),
      fmt_(o.fmt_),
      shape_(std::move(o.shape_)),
      dset_(std::exchange(o.dset_, -1)),
      next_row_(o.next_row_),
      sha_(o.sha_),
      finished_(o.finished_) {}

H5DatasetStream::~H5DatasetStream() {
  if (!writer_ || finished_) return;
  if (dset_ >= 0) H5Dclose(dset_);
  --writer_->open_streams_;
  writer_->poisoned_ = true;
}

namespace {
bool packed_rows(Fmt f, const std::vector<int64_t>& shape) { return f == Fmt::e2m1x2 && shape.size() == 1; }
}  // namespace

int64_t H5DatasetStream::stored_bytes_for_rows(int64_t nrows) const {
  if (packed_rows(fmt_, shape_)) return (nrows + 1) / 2;
  std::vector<int64_t> row_shape = fmt_stored_shape(fmt_, shape_);
  row_shape[0] = nrows;
  return *checked_bytes(row_shape, int64_t(fmt_storage_size(fmt_)));
}

void H5DatasetStream::write_rows(int64_t row0, int64_t nrows, const void* bytes) {
  if (!writer_ || finished_) throw std::logic_error("H5DatasetStream::write_rows: " + path_ + ": stream is finished");
  writer_->require_open("write_rows");
  if (row0 != next_row_)
    throw std::invalid_argument("H5DatasetStream: " + path_ + ": rows must be written in order: got row0 = " +
                                std::to_string(row0) + ", expected " + std::to_string(next_row_));
  if (nrows < 0 || nrows > shape_[0] - row0)
    throw std::out_of_range("H5DatasetStream: " + path_ + ": rows [" + std::to_string(row0) + ", " +
                            std::to_string(row0 + nrows) + ") outside dim 0 = " + std::to_string(shape_[0]));
  const bool packed = packed_rows(fmt_, shape_);
  const bool last = row0 + nrows == shape_[0];
  if (packed && nrows % 2 != 0 && !last)
    throw std::invalid_argument("H5DatasetStream: " + path_ + ": rank-1 e2m1x2 writes need an even row count except the last");
  const int64_t nbytes = stored_bytes_for_rows(nrows);
  const auto* p = static_cast<const uint8_t*>(bytes);
  if (fmt_ == Fmt::e2m1x2 && nbytes > 0) {
    if (packed && last && shape_[0] % 2 != 0) e2m1x2_check_padding(path_, p + nbytes - 1, 1, 1);
    if (!packed && shape_.back() % 2 != 0) e2m1x2_check_padding(path_, p, nbytes, (shape_.back() + 1) / 2);
  }
  if (nbytes > 0) {
    std::vector<hsize_t> start(shape_.size(), 0), count;
    for (int64_t d : fmt_stored_shape(fmt_, shape_)) count.push_back(hsize_t(d));
    start[0] = hsize_t(packed ? row0 / 2 : row0);
    count[0] = hsize_t(packed ? (nrows + 1) / 2 : nrows);
    Hid fspace(H5Dget_space(dset_), H5Sclose);
    h5_check(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr),
             "H5DatasetStream: selecting rows of " + path_);
    Hid mspace(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
    h5_check(H5Dwrite(dset_, fmt_mem_type(fmt_), mspace, fspace, H5P_DEFAULT, p), "H5DatasetStream: writing " + path_);
    sha_.update(p, size_t(nbytes));
  }
  next_row_ += nrows;
}

void H5DatasetStream::finish() {
  if (!writer_ || finished_) throw std::logic_error("H5DatasetStream::finish: " + path_ + ": stream is finished");
  writer_->require_open("finish");
  if (next_row_ != shape_[0])
    throw std::logic_error("H5DatasetStream::finish: " + path_ + ": only " + std::to_string(next_row_) + " of " +
                           std::to_string(shape_[0]) + " rows written");
  write_str_attr(dset_, "sha256", sha_.hex_digest());
  const herr_t closed = H5Dclose(dset_);
  dset_ = -1;
  finished_ = true;
  --writer_->open_streams_;
  h5_check(closed, "H5DatasetStream: closing " + path_);
}

// =============================================================================================
// H5Reader
// =============================================================================================

H5Reader::H5Reader(std::string path) : path_(std::move(path)) {
  hdf5_silence();
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) throw InputError(path_, "", std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InputError(path_, "", "is a directory, not an HDF5 file");
  if (::access(path_.c_str(), R_OK) != 0)
    throw InputError(path_, "", std::string("cannot open: ") + std::strerror(errno));
  if (H5Fis_hdf5(path_.c_str()) <= 0) throw InputError(path_, "", "not an HDF5 file");
  Hid fapl = plist(H5P_FILE_ACCESS);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, fapl);
  if (file_ < 0) throw InputError(path_, "", "corrupt or truncated HDF5 file (HDF5: " + hdf5_error_text() + ")");
}

H5Reader::~H5Reader() {
  if (file_ >= 0) H5Fclose(file_);
}

int64_t H5Reader::open_dataset(const std::string& dataset) const {
  const std::vector<std::string> parts = split_path(dataset);
  const std::string full = parts.empty() ? dataset : join_path(parts, parts.size());
  const H5I_type_t t = object_type(file_, parts);
  if (t == H5I_BADID) throw InputError(path_, full, "no such dataset");
  if (t == H5I_GROUP) throw InputError(path_, full, "is a group, not a dataset");
  if (t != H5I_DATASET) throw InputError(path_, full, "is not a dataset");
  const hid_t d = H5Dopen2(file_, full.c_str(), H5P_DEFAULT);
  if (d < 0) throw InputError(path_, full, "cannot open dataset: " + hdf5_error_text());
  return d;
}

bool H5Reader::has(const std::string& dataset) const { return object_type(file_, split_path(dataset)) == H5I_DATASET; }

namespace {

// Reads and validates the metadata of an open dataset (design.md §6: one clear line per problem).
TensorInfo inspect(hid_t dset, const Where& w) {
  TensorInfo info;
  Hid space(H5Dget_space(dset), H5Sclose);
  const H5S_class_t sclass = H5Sget_simple_extent_type(space);
  if (sclass == H5S_NULL) w.fail("has a null dataspace (no data)");
  if (sclass == H5S_SIMPLE) {
    std::vector<hsize_t> dims(size_t(std::max(0, H5Sget_simple_extent_ndims(space))));
    H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    for (hsize_t d : dims) {
      if (d > hsize_t(std::numeric_limits<int64_t>::max())) w.fail("dimension too large");
      info.stored_shape.push_back(int64_t(d));
    }
  } else if (sclass != H5S_SCALAR) {
    w.fail("has an unsupported dataspace");
  }

  Hid type(H5Dget_type(dset), H5Tclose);
  const std::optional<std::string> format = read_str_attr(dset, "format", w);
  if (format) {
    const std::optional<Fmt> f = fmt_parse(*format);
    if (!f) w.fail("unknown format '" + *format + "' (known: f32, bf16, e4m3fn, e5m2, e2m1x2, ue8m0, i32, i64)");
    info.fmt = *f;
    if (!h5_type_matches(type, info.fmt))
      w.fail("format attribute says '" + *format + "' but the dataset is stored as " + h5_type_name(type) + " (" +
             *format + " is stored as " + fmt_storage_name(info.fmt) + ")");
  } else {
    info.has_format_attr = false;
    if (h5_type_matches(type, Fmt::f32)) info.fmt = Fmt::f32;
    else if (h5_type_matches(type, Fmt::i32)) info.fmt = Fmt::i32;
    else if (h5_type_matches(type, Fmt::i64)) info.fmt = Fmt::i64;
    else
      w.fail("no 'format' attribute and the dataset is stored as " + h5_type_name(type) +
             "; only float32, int32 and int64 datasets may omit it (set format to one of f32, bf16, e4m3fn, "
             "e5m2, e2m1x2, ue8m0, i32, i64)");
  }

  const std::optional<std::vector<int64_t>> logical = read_i64s_attr(dset, "logical_shape", w);
  if (logical) {
    for (int64_t d : *logical)
      if (d < 0) w.fail("logical_shape " + shape_str(*logical) + " has a negative dimension");
    const std::vector<int64_t> expect = fmt_stored_shape(info.fmt, *logical);
    if (expect != info.stored_shape)
      w.fail("logical_shape " + shape_str(*logical) + " does not match the stored shape " +
             shape_str(info.stored_shape) + " (" + fmt_name(info.fmt) + " stores it as " + shape_str(expect) + ")");
    info.shape = *logical;
  } else if (info.fmt == Fmt::e2m1x2) {
    w.fail("no 'logical_shape' attribute; an e2m1x2 dataset needs one (its last logical dimension may be odd)");
  } else {
    info.shape = info.stored_shape;
  }

  if (auto scale = read_str_attr(dset, "scale", w)) info.attrs.scale = *scale;
  if (auto block = read_i64s_attr(dset, "block", w)) {
    if (block->size() != info.shape.size())
      w.fail("block " + shape_str(*block) + " does not have the rank of the logical shape " + shape_str(info.shape));
    for (int64_t b : *block)
      if (b <= 0) w.fail("block " + shape_str(*block) + " has a non-positive entry");
    info.attrs.block = *block;
  }
  if (auto sha = read_str_attr(dset, "sha256", w)) info.sha256 = *sha;
  info.attrs.extra = read_extra_attrs(dset, w);

  const auto bytes = checked_bytes(info.stored_shape, int64_t(fmt_storage_size(info.fmt)));
  if (!bytes) w.fail("shape " + shape_str(info.stored_shape) + " is too large");
  info.stored_bytes = *bytes;
  return info;
}

}  // namespace

TensorInfo H5Reader::info(const std::string& dataset) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  return inspect(dset, Where{path_, join_path(split_path(dataset), split_path(dataset).size())});
}

Tensor H5Reader::read(const std::string& dataset, std::optional<Fmt> expect, TensorAttrs* attrs) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, join_path(split_path(dataset), split_path(dataset).size())};
  const TensorInfo info = inspect(dset, w);
  if (expect && *expect != info.fmt)
    w.fail(std::string("expected format ") + fmt_name(*expect) + " but the dataset is " + fmt_name(info.fmt));
  Tensor t = Tensor::make(info.fmt, info.shape);
  if (!t.data.empty() && H5Dread(dset, fmt_mem_type(info.fmt), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    w.fail("cannot read data (HDF5: " + hdf5_error_text() + ")");
  if (attrs) *attrs = info.attrs;
  return t;
}

Tensor H5Reader::read_rows(const std::string& dataset, int64_t row0, int64_t nrows) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, join_path(split_path(dataset), split_path(dataset).size())};
  const TensorInfo info = inspect(dset, w);
  if (info.shape.empty()) throw std::invalid_argument("H5Reader::read_rows: " + w.dataset + " has rank 0");
  if (row0 < 0 || nrows < 0 || nrows > info.shape[0] - row0)
    throw std::out_of_range("H5Reader::read_rows: " + w.dataset + ": rows [" + std::to_string(row0) + ", " +
                            std::to_string(row0 + nrows) + ") outside dim 0 = " + std::to_string(info.shape[0]));
  const bool packed = packed_rows(info.fmt, info.shape);
  if (packed && row0 % 2 != 0)
    throw std::invalid_argument("H5Reader::read_rows: " + w.dataset + ": rank-1 e2m1x2 needs an even row0");
  std::vector<int64_t> shape = info.shape;
  shape[0] = nrows;
  Tensor t = Tensor::make(info.fmt, shape);
  if (t.data.empty()) return t;
  std::vector<hsize_t> start(info.stored_shape.size(), 0), count(info.stored_shape.begin(), info.stored_shape.end());
  start[0] = hsize_t(packed ? row0 / 2 : row0);
  count[0] = hsize_t(packed ? (nrows + 1) / 2 : nrows);
  Hid fspace(H5Dget_space(dset), H5Sclose);
  Hid mspace(H5Screate_simple(int(count.size()), count.data(), nullptr), H5Sclose);
  if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
      H5Dread(dset, fmt_mem_type(info.fmt), mspace, fspace, H5P_DEFAULT, t.data.data()) < 0)
    w.fail("cannot read rows (HDF5: " + hdf5_error_text() + ")");
  if (packed && nrows % 2 != 0) t.data.back() &= 0x0F;  // the high nibble belongs to the next row
  return t;
}

bool H5Reader::verify_hash(const std::string& dataset) const {
  const TensorInfo i = info(dataset);
  const std::string name = join_path(split_path(dataset), split_path(dataset).size());
  if (i.sha256.empty()) throw InputError(path_, name, "no 'sha256' attribute to verify");
  Sha256 h;
  if (i.shape.empty()) {
    const Tensor t = read(dataset);
    h.update(t.data.data(), t.data.size());
  } else {
    constexpr int64_t kBlockBytes = int64_t(64) << 20;  // bounded memory for any tensor size
    const int64_t row_bytes = std::max<int64_t>(1, i.stored_bytes / std::max<int64_t>(1, i.shape[0]));
    int64_t rows = std::max<int64_t>(2, kBlockBytes / row_bytes);
    rows -= rows % 2;  // keeps row0 even for rank-1 e2m1x2
    for (int64_t r = 0; r < i.shape[0]; r += rows) {
      const Tensor t = read_rows(dataset, r, std::min(rows, i.shape[0] - r));
      h.update(t.data.data(), t.data.size());
    }
  }
  std::string want = i.sha256;
  for (char& c : want) c = char(std::tolower(static_cast<unsigned char>(c)));
  return h.hex_digest() == want;
}

namespace {

struct LinkList {
  std::vector<std::string> names;
};

herr_t collect_hard_link(hid_t, const char* name, const H5L_info_t* info, void* out) {
  if (info->type == H5L_TYPE_HARD) static_cast<LinkList*>(out)->names.emplace_back(name);
  return 0;
}

// Link names of a group in creation order when it tracks it, else in name order.
std::vector<std::string> group_links(hid_t group) {
  LinkList links;
  Hid gcpl(H5Gget_create_plist(group), H5Pclose);
  unsigned flags = 0;
  if (gcpl.ok() && H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED)) {
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_hard_link, &links) >= 0) return links.names;
    links.names.clear();
  }
  hsize_t idx = 0;
  H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_hard_link, &links);
  return links.names;
}

void walk_datasets(hid_t group, const std::string& prefix, int depth, const Where& w, std::vector<std::string>& out) {
  if (depth > 64) w.fail("groups nested deeper than 64 levels at " + prefix + " (a link cycle?)");
  for (const std::string& name : group_links(group)) {
    const std::string path = prefix + "/" + name;
    Hid obj(H5Oopen(group, name.c_str(), H5P_DEFAULT), H5Oclose);
    if (!obj.ok()) continue;
    const H5I_type_t t = H5Iget_type(obj);
    if (t == H5I_DATASET) out.push_back(path);
    if (t == H5I_GROUP) walk_datasets(obj, path, depth + 1, w, out);
  }
}

}  // namespace

std::vector<std::string> H5Reader::datasets() const {
  std::vector<std::string> out;
  Hid root(H5Gopen2(file_, "/", H5P_DEFAULT), H5Gclose);
  if (!root.ok()) throw InputError(path_, "", "cannot open the root group: " + hdf5_error_text());
  walk_datasets(root, "", 0, Where{path_, ""}, out);
  return out;
}

namespace {

// A root attribute that must be a scalar of one HDF5 type class.
Hid open_root_scalar(hid_t file, const std::string& name, H5T_class_t want, const char* want_name, const Where& w) {
  Hid attr = open_attr(file, name.c_str(), w);
  if (!attr.ok()) return attr;
  Hid type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != want || attr_npoints(attr) != 1)
    w.fail("root attribute '" + name + "' is " + h5_type_name(type) + (attr_npoints(attr) != 1 ? " array" : "") +
           ", not a single " + want_name);
  return attr;
}

}  // namespace

std::optional<std::string> H5Reader::root_str(const std::string& name) const {
  const Where w{path_, ""};
  Hid attr = open_attr(file_, name.c_str(), w);
  if (!attr.ok()) return std::nullopt;
  Hid type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != H5T_STRING) w.fail("root attribute '" + name + "' is " + h5_type_name(type) + ", not a string");
  return read_str_attr(file_, name.c_str(), w);
}

std::optional<int64_t> H5Reader::root_i64(const std::string& name) const {
  const Where w{path_, ""};
  Hid attr = open_root_scalar(file_, name, H5T_INTEGER, "integer", w);
  if (!attr.ok()) return std::nullopt;
  int64_t v = 0;
  if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0)
    w.fail("cannot read root attribute '" + name + "': " + hdf5_error_text());
  return v;
}

std::optional<double> H5Reader::root_f64(const std::string& name) const {
  const Where w{path_, ""};
  Hid attr = open_root_scalar(file_, name, H5T_FLOAT, "float", w);
  if (!attr.ok()) return std::nullopt;
  double v = 0;
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0)
    w.fail("cannot read root attribute '" + name + "': " + hdf5_error_text());
  return v;
}

std::vector<std::string> H5Reader::root_attr_names() const {
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(file_, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names);
  return names;
}

}  // namespace v4::golden
