// The validating reader of tensor files (tensor_io.h): H5Reader. Every dataset's metadata is checked
// against its storage (format vs HDF5 type, logical vs stored shape, block rank) before any data is
// read, and every problem is one InputError line naming file, dataset and problem (design.md §6).
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#include "golden/h5_util.h"
#include "golden/reader_catalog.h"
#include "golden/tensor_io.h"
#include "golden/untrusted.h"

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

// TensorAttrs::extra of a dataset (its single-string attributes with unreserved names) and
// TensorInfo::other_attrs (its other unreserved attribute names).
void read_extra_attrs(hid_t dset, const Where& w, TensorInfo& info) {
  for (const std::string& name : dataset_attr_names(dset, w)) {
    if (attr_reserved(name)) continue;
    Hid attr = open_attr(dset, name.c_str(), w);
    if (attr.ok() && attr_is_single_string(attr))
      info.attrs.extra.emplace_back(name, str_attr_value(attr, "attribute '" + name + "'", w));
    else
      info.other_attrs.push_back(name);
  }
}

}  // namespace

H5Reader::H5Reader(std::string path) : path_(std::move(path)) {
  hdf5_silence();
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) throw InputError(path_, "", std::string("cannot open: ") + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw InputError(path_, "", "is a directory, not an HDF5 file");
  if (::access(path_.c_str(), R_OK) != 0)
    throw InputError(path_, "", std::string("cannot open: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw InputError(path_, "", "is not a regular file (a device, FIFO or socket)");
  file_size_ = uint64_t(st.st_size);  // what check_storage holds every dataset's declared storage against
  inspect_untrusted_files({path_});
  std::optional<ReaderCatalog> handed = inspected_catalog(st);
  known_ = std::make_unique<ReaderCatalog>(handed ? std::move(*handed) : ReaderCatalog{});
  if (H5Fis_hdf5(path_.c_str()) <= 0) throw InputError(path_, "", "not an HDF5 file");
  Hid fapl = plist(H5P_FILE_ACCESS);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, fapl);
  if (file_ < 0) throw InputError(path_, "", "corrupt or truncated HDF5 file (HDF5: " + hdf5_error_text() + ")");
}

H5Reader::~H5Reader() {
  if (file_ >= 0) H5Fclose(file_);
}

namespace {

// An input file must hold its own data: a path through an external (or user-defined) link would make
// HDF5 open another file, so it is refused before anything is opened along it.
void refuse_foreign_links(hid_t file, const std::vector<std::string>& parts, const Where& w) {
  for (size_t n = 1; n <= parts.size(); ++n) {
    const std::string prefix = join_path(parts, n);
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return;  // absent: object_type says so
    H5L_info_t li;
    if (H5Lget_info(file, prefix.c_str(), &li, H5P_DEFAULT) < 0)
      w.fail("cannot read the link " + prefix + ": " + hdf5_error_text());
    if (li.type == H5L_TYPE_EXTERNAL)
      w.fail(prefix + " is an external link to another file; refused (an input must hold its own data, "
                      "docs/hdf5-tensors.md)");
    if (li.type != H5L_TYPE_HARD && li.type != H5L_TYPE_SOFT) w.fail(prefix + " is a user-defined link; refused");
  }
}

}  // namespace

int64_t H5Reader::open_dataset(const std::string& dataset) const {
  const std::vector<std::string> parts = split_path(dataset);
  const std::string full = canonical_path(dataset);
  refuse_foreign_links(file_, parts, Where{path_, full});
  const H5I_type_t t = object_type(file_, parts);
  if (t == H5I_BADID) throw InputError(path_, full, "no such dataset");
  if (t == H5I_GROUP) throw InputError(path_, full, "is a group, not a dataset");
  if (t != H5I_DATASET) throw InputError(path_, full, "is not a dataset");
  const hid_t d = H5Dopen2(file_, full.c_str(), H5P_DEFAULT);
  if (d < 0) throw InputError(path_, full, "cannot open dataset: " + hdf5_error_text());
  return d;
}

bool H5Reader::has(const std::string& dataset) const {
  if (known_->infos.count(canonical_path(dataset))) return true;  // walked and validated as a dataset already
  const std::vector<std::string> parts = split_path(dataset);
  refuse_foreign_links(file_, parts, Where{path_, canonical_path(dataset)});
  return object_type(file_, parts) == H5I_DATASET;
}

bool H5Reader::has_group(const std::string& path) const {
  const std::vector<std::string> parts = split_path(path);
  refuse_foreign_links(file_, parts, Where{path_, canonical_path(path)});
  return object_type(file_, parts) == H5I_GROUP;
}

namespace {

// Deflate cannot expand data by more than 1032:1 (zlib's technical notes: a 258-byte match coded in one
// bit-pair at best gives 1032:1); shuffle and fletcher32 do not compress. A chunked dataset declaring more
// bytes than its stored size times this is a decompression bomb or a lie.
constexpr uint64_t kMaxDeflateRatio = 1032;
// Largest chunk accepted: HDF5 holds a whole chunk in memory to read any part of it, and the comparator
// promises bounded memory (docs/compare.md); h5py's automatic chunks stay below 1 MiB.
constexpr uint64_t kMaxChunkBytes = uint64_t(64) << 20;

// What the file can actually hold for a dataset, checked before any allocation for it (docs/hdf5-tensors.md
// §Untrusted files): no external storage, no virtual datasets, contiguous data inside the file, every chunk
// written, only deflate/shuffle/fletcher32 filters, chunks of bounded size, no more than deflate can
// expand. Never-written data (which HDF5 would return as fill values) is an error. Sets info.raw where
// the bytes can be read at their offset without HDF5.
void check_storage(hid_t dset, hid_t type, TensorInfo& info, const Where& w, uint64_t file_size) {
  Hid dcpl(H5Dget_create_plist(dset), H5Pclose);
  if (!dcpl.ok()) w.fail("cannot read the dataset's creation properties: " + hdf5_error_text());
  if (H5Pget_external_count(dcpl) != 0)
    w.fail("stores its data in an external raw file (HDF5 external storage); refused: an input must hold its own "
           "data (docs/hdf5-tensors.md)");
  const H5D_layout_t layout = H5Pget_layout(dcpl);
  if (layout == H5D_VIRTUAL)
    w.fail("is a virtual dataset (its data is mapped from other datasets or files); refused (docs/hdf5-tensors.md)");
  if (layout < 0) w.fail("has an unreadable storage layout: " + hdf5_error_text());
  // Contiguous little-endian storage of the format's width can be read at its offset without HDF5.
  const bool raw = layout == H5D_CONTIGUOUS && H5Tget_order(type) != H5T_ORDER_BE &&
                   H5Tget_size(type) == fmt_storage_size(info.fmt);
  if (info.stored_bytes == 0 && raw) info.raw = RawExtent{0, 0};
  if (info.stored_bytes == 0 || layout == H5D_COMPACT) return;  // compact data lives in the object header
  const uint64_t declared = uint64_t(info.stored_bytes);
  if (layout == H5D_CONTIGUOUS) {
    const haddr_t off = H5Dget_offset(dset);
    if (off == HADDR_UNDEF)
      w.fail("declares " + std::to_string(declared) + " bytes but its data was never written (no storage in the file)");
    if (uint64_t(off) > file_size || declared > file_size - uint64_t(off))
      w.fail("declares " + std::to_string(declared) + " bytes at offset " + std::to_string(uint64_t(off)) +
             " but the file has " + std::to_string(file_size) + " bytes (truncated or corrupt)");
    if (raw) info.raw = RawExtent{uint64_t(off), declared};
    return;
  }
  if (layout != H5D_CHUNKED) w.fail("has an unsupported storage layout");
  const int nfilters = H5Pget_nfilters(dcpl);
  if (nfilters < 0) w.fail("cannot read the filter pipeline: " + hdf5_error_text());
  for (int i = 0; i < nfilters; ++i) {
    unsigned flags = 0, cd[8];
    size_t ncd = 8;
    char name[64] = {0};
    const H5Z_filter_t id = H5Pget_filter2(dcpl, unsigned(i), &flags, &ncd, cd, sizeof name, name, nullptr);
    if (id != H5Z_FILTER_DEFLATE && id != H5Z_FILTER_SHUFFLE && id != H5Z_FILTER_FLETCHER32)
      w.fail("uses HDF5 filter " + std::to_string(int(id)) + " (" + std::string(name) +
             "); only deflate (gzip), shuffle and fletcher32 are accepted");
  }
  const int rank = int(info.stored_shape.size());
  std::vector<hsize_t> chunk(size_t(std::max(rank, 1)), 0);
  if (rank == 0 || H5Pget_chunk(dcpl, rank, chunk.data()) != rank) w.fail("has an unreadable chunk shape");
  uint64_t chunk_bytes = fmt_storage_size(info.fmt), expected = 1;
  for (int d = 0; d < rank; ++d) {
    if (chunk[size_t(d)] == 0) w.fail("has a zero chunk dimension");
    const uint64_t dim = uint64_t(info.stored_shape[size_t(d)]), c = chunk[size_t(d)];
    chunk_bytes = chunk_bytes > kMaxChunkBytes ? chunk_bytes : chunk_bytes * std::min<uint64_t>(c, kMaxChunkBytes + 1);
    const uint64_t per_dim = dim / c + (dim % c != 0);
    expected = per_dim != 0 && expected > std::numeric_limits<uint64_t>::max() / per_dim ? std::numeric_limits<uint64_t>::max()
                                                                                          : expected * per_dim;
  }
  if (chunk_bytes > kMaxChunkBytes)
    w.fail("has chunks of more than " + std::to_string(kMaxChunkBytes >> 20) + " MiB (HDF5 reads a whole chunk at a time)");
  hsize_t stored_chunks = 0;
  Hid space(H5Dget_space(dset), H5Sclose);
  if (!space.ok() || H5Dget_num_chunks(dset, space, &stored_chunks) < 0) w.fail("cannot read the chunk index: " + hdf5_error_text());
  if (uint64_t(stored_chunks) < expected)
    w.fail("only " + std::to_string(uint64_t(stored_chunks)) + " of its " + std::to_string(expected) +
           " chunks were ever written; refusing to read never-written data as fill values");
  const uint64_t storage = H5Dget_storage_size(dset);
  if (storage > file_size)
    w.fail("stores " + std::to_string(storage) + " bytes but the file has " + std::to_string(file_size) +
           " bytes (truncated or corrupt)");
  const uint64_t max_ratio = nfilters == 0 ? 1 : kMaxDeflateRatio;
  if (storage == 0 || declared / max_ratio > storage)
    w.fail("declares " + std::to_string(declared) + " bytes but stores only " + std::to_string(storage) +
           " (more than its filters can expand)");
}

// A signed 16-bit integer dataset: bf16 codes as torch's tensor.view(torch.int16) gives them.
bool is_int16(hid_t type) { return H5Tequal(type, H5T_STD_I16LE) > 0 || H5Tequal(type, H5T_STD_I16BE) > 0; }

// The memory type a dataset is read with: its format's, except int16-stored bf16 codes, read as int16
// (HDF5 would clip negative values converting int16 to uint16; the bits are what matter).
hid_t mem_type(const TensorInfo& info) { return info.int16_codes ? H5T_NATIVE_INT16 : fmt_mem_type(info.fmt); }

// Reads and validates the metadata of an open dataset (design.md §6: one clear line per problem).
TensorInfo inspect(hid_t dset, const Where& w, uint64_t file_size) {
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
  read_extra_attrs(dset, w, info);

  const auto bytes = checked_bytes(info.stored_shape, int64_t(fmt_storage_size(info.fmt)));
  if (!bytes) w.fail("shape " + shape_str(info.stored_shape) + " is too large");
  info.stored_bytes = *bytes;
  check_storage(dset, type, info, w, file_size);
  return info;
}

}  // namespace

namespace {

// The buffer for a tensor's data; running out of memory is one line naming the file and dataset.
Tensor allocate(Fmt fmt, const std::vector<int64_t>& shape, const Where& w) {
  try {
    return Tensor::make(fmt, shape);
  } catch (const std::bad_alloc&) {
    w.fail("needs " + std::to_string(checked_bytes(fmt_stored_shape(fmt, shape), int64_t(fmt_storage_size(fmt))).value_or(-1)) +
           " bytes of memory for " + fmt_name(fmt) + " " + shape_str(shape) + ", more than can be allocated");
  }
}

}  // namespace

TensorInfo H5Reader::info_of(int64_t dset, const std::string& canonical) const {
  const auto it = known_->infos.find(canonical);
  if (it != known_->infos.end()) return it->second;
  TensorInfo info = inspect(hid_t(dset), Where{path_, canonical}, file_size_);
  ++own_inspections_;
  known_->infos.emplace(canonical, info);
  return info;
}

TensorInfo H5Reader::info(const std::string& dataset) const {
  const std::string canonical = canonical_path(dataset);
  const auto it = known_->infos.find(canonical);
  if (it != known_->infos.end()) return it->second;  // validated already (by the inspector or by this reader)
  Hid dset(open_dataset(dataset), H5Dclose);
  return info_of(dset, canonical);
}

Tensor H5Reader::read(const std::string& dataset, std::optional<Fmt> expect, TensorAttrs* attrs) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, canonical_path(dataset)};
  const TensorInfo info = info_of(dset, w.dataset);
  if (expect && *expect != info.fmt)
    w.fail(std::string("expected format ") + fmt_name(*expect) + " but the dataset is " + fmt_name(info.fmt));
  Tensor t = allocate(info.fmt, info.shape, w);
  if (!t.data.empty() && H5Dread(dset, mem_type(info), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()) < 0)
    w.fail("cannot read data (HDF5: " + hdf5_error_text() + ")");
  if (attrs) *attrs = info.attrs;
  return t;
}

Tensor H5Reader::read_rows(const std::string& dataset, int64_t row0, int64_t nrows) const {
  Hid dset(open_dataset(dataset), H5Dclose);
  const Where w{path_, canonical_path(dataset)};
  const TensorInfo info = info_of(dset, w.dataset);
  if (info.shape.empty()) throw std::invalid_argument("H5Reader::read_rows: " + w.dataset + " has rank 0");
  if (row0 < 0 || nrows < 0 || nrows > info.shape[0] - row0)
    throw std::out_of_range("H5Reader::read_rows: " + w.dataset + ": rows [" + std::to_string(row0) + ", " +
                            std::to_string(row0 + nrows) + ") outside dim 0 = " + std::to_string(info.shape[0]));
  const bool packed = packed_rows(info.fmt, info.shape);
  if (packed && row0 % 2 != 0)
    throw std::invalid_argument("H5Reader::read_rows: " + w.dataset + ": rank-1 e2m1x2 needs an even row0");
  std::vector<int64_t> shape = info.shape;
  shape[0] = nrows;
  Tensor t = allocate(info.fmt, shape, w);
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
  std::string foreign;  // what is wrong with the first external or user-defined link seen
};

herr_t collect_hard_link(hid_t, const char* name, const H5L_info_t* info, void* out) {
  auto* links = static_cast<LinkList*>(out);
  if (info->type == H5L_TYPE_HARD) links->names.emplace_back(name);
  if (info->type != H5L_TYPE_HARD && info->type != H5L_TYPE_SOFT && links->foreign.empty())
    links->foreign = std::string(name) + (info->type == H5L_TYPE_EXTERNAL ? " is an external link to another file"
                                                                           : " is a user-defined link");
  return 0;
}

// Link names of a group in creation order when it tracks it, else in name order. An external or
// user-defined link is refused (exit 2): an input must hold its own data.
std::vector<std::string> group_links(hid_t group, const std::string& prefix, const Where& w) {
  LinkList links;
  Hid gcpl(H5Gget_create_plist(group), H5Pclose);
  unsigned flags = 0;
  if (gcpl.ok() && H5Pget_link_creation_order(gcpl, &flags) >= 0 && (flags & H5P_CRT_ORDER_TRACKED)) {
    hsize_t idx = 0;
    if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_hard_link, &links) >= 0 &&
        links.foreign.empty())
      return links.names;
    if (links.foreign.empty()) links.names.clear();
  }
  if (links.foreign.empty()) {
    hsize_t idx = 0;
    H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_hard_link, &links);
  }
  if (!links.foreign.empty())
    w.fail(prefix + "/" + links.foreign + "; refused (an input must hold its own data, docs/hdf5-tensors.md)");
  return links.names;
}

void walk_datasets(hid_t group, const std::string& prefix, int depth, const Where& w, std::vector<std::string>& out) {
  if (depth > 64) w.fail("groups nested deeper than 64 levels at " + prefix + " (a link cycle?)");
  for (const std::string& name : group_links(group, prefix, w)) {
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
  if (known_->datasets) return *known_->datasets;
  std::vector<std::string> out;
  Hid root(H5Gopen2(file_, "/", H5P_DEFAULT), H5Gclose);
  if (!root.ok()) throw InputError(path_, "", "cannot open the root group: " + hdf5_error_text());
  walk_datasets(root, "", 0, Where{path_, ""}, out);
  known_->datasets = out;
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
