// The validating reader of tensor files (tensor_io.h): H5Reader. Every dataset's metadata is checked
// against its storage (format vs HDF5 type, logical vs stored shape, block rank) before any data is
// read, and every problem is one InputError line naming file, dataset and problem (design.md §6).
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "golden/h5_util.h"
#include "golden/tensor_io.h"

namespace v4::golden {

using namespace h5;

namespace {

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

}  // namespace

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
  const std::string full = canonical_path(dataset);
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

// A signed 16-bit integer dataset: bf16 codes as torch's tensor.view(torch.int16) gives them.
bool is_int16(hid_t type) { return H5Tequal(type, H5T_STD_I16LE) > 0 || H5Tequal(type, H5T_STD_I16BE) > 0; }

// The memory type a dataset is read with: its format's, except int16-stored bf16 codes, read as int16
// (HDF5 would clip negative values converting int16 to uint16; the bits are what matter).
hid_t mem_type(const TensorInfo& info) { return info.int16_codes ? H5T_NATIVE_INT16 : fmt_mem_type(info.fmt); }

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
    info.int16_codes = info.fmt == Fmt::bf16 && is_int16(type);
    if (!h5_type_matches(type, info.fmt) && !info.int16_codes)
      w.fail("format attribute says '" + *format + "' but the dataset is stored as " + h5_type_name(type) + " (" +
             *format + " is stored as " + fmt_storage_name(info.fmt) + ")");
  } else {
    info.has_format_attr = false;
    if (h5_type_matches(type, Fmt::f32)) info.fmt = Fmt::f32;
    else if (h5_type_matches(type, Fmt::i32)) info.fmt = Fmt::i32;
    else if (h5_type_matches(type, Fmt::i64)) info.fmt = Fmt::i64;
    else if (h5_type_matches(type, Fmt::bf16) || is_int16(type)) info.fmt = Fmt::bf16, info.int16_codes = is_int16(type);
    else
      w.fail("no 'format' attribute and the dataset is stored as " + h5_type_name(type) +
             "; only float32, int32, int64 and 16-bit integer (bf16 codes) datasets may omit it (set format to one "
             "of f32, bf16, e4m3fn, e5m2, e2m1x2, ue8m0, i32, i64)");
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
  return inspect(dset, Where{path_, canonical_path(dataset)});
}

Tensor H5Reader::read(const std::string& dataset, std::optional<Fmt> expect, TensorAttrs* attrs) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, canonical_path(dataset)};
  const TensorInfo info = inspect(dset, w);
  if (expect && *expect != info.fmt)
    w.fail(std::string("expected format ") + fmt_name(*expect) + " but the dataset is " + fmt_name(info.fmt));
  Tensor t = Tensor::make(info.fmt, info.shape);
  if (!t.data.empty() && H5Dread(dset, mem_type(info), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    w.fail("cannot read data (HDF5: " + hdf5_error_text() + ")");
  if (attrs) *attrs = info.attrs;
  return t;
}

Tensor H5Reader::read_rows(const std::string& dataset, int64_t row0, int64_t nrows) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, canonical_path(dataset)};
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
      H5Dread(dset, mem_type(info), mspace, fspace, H5P_DEFAULT, t.data.data()) < 0)
    w.fail("cannot read rows (HDF5: " + hdf5_error_text() + ")");
  if (packed && nrows % 2 != 0) t.data.back() &= 0x0F;  // the high nibble belongs to the next row
  return t;
}

bool H5Reader::verify_hash(const std::string& dataset) const {
  const TensorInfo i = info(dataset);
  const std::string name = canonical_path(dataset);
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

// A root attribute that must be a scalar of one HDF5 type class, read as `mem_type`; nullopt when absent.
template <class T>
std::optional<T> read_root_scalar(hid_t file, const std::string& name, H5T_class_t want, const char* want_name,
                                  hid_t mem_type, const Where& w) {
  Hid attr = open_attr(file, name.c_str(), w);
  if (!attr.ok()) return std::nullopt;
  Hid type(H5Aget_type(attr), H5Tclose);
  if (H5Tget_class(type) != want || attr_npoints(attr) != 1)
    w.fail("root attribute '" + name + "' is " + h5_type_name(type) + (attr_npoints(attr) != 1 ? " array" : "") +
           ", not a single " + want_name);
  T v = 0;
  if (H5Aread(attr, mem_type, &v) < 0) w.fail("cannot read root attribute '" + name + "': " + hdf5_error_text());
  return v;
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
  return read_root_scalar<int64_t>(file_, name, H5T_INTEGER, "integer", H5T_NATIVE_INT64, Where{path_, ""});
}

std::optional<double> H5Reader::root_f64(const std::string& name) const {
  return read_root_scalar<double>(file_, name, H5T_FLOAT, "float", H5T_NATIVE_DOUBLE, Where{path_, ""});
}

std::vector<std::string> H5Reader::root_attr_names() const {
  std::vector<std::string> names;
  hsize_t idx = 0;
  H5Aiterate2(file_, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr_name, &names);
  return names;
}

}  // namespace v4::golden
