// The atomic writer of tensor files (tensor_io.h): H5Writer and H5DatasetStream. Reproducible bytes come
// from: no object timestamps, libver bounds pinned to the 1.8 format, contiguous layout allocated at
// creation without fill writes, and a fixed order of metadata operations per dataset (create, format,
// logical_shape, scale, block, extra attributes in their given order, data, sha256). Datasets track
// attribute creation order, so the reader returns the extra attributes in the order they were written.
#include <fcntl.h>
#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "golden/h5_util.h"
#include "golden/output_file.h"
#include "golden/tensor_io.h"

namespace v4::golden {

using namespace h5;

namespace {

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

// A failed HDF5 call while writing data or flushing is an output failure (disk full, I/O error): exit 4.
void writer_check(herr_t status, const std::string& output, const std::string& what) {
  if (status < 0) throw OutputError(output, "cannot write (" + what + "): " + hdf5_error_text());
}

// ---- groups ----

Hid group_create_plist() {
  Hid gcpl = plist(H5P_GROUP_CREATE);
  H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_obj_track_times(gcpl, false);
  return gcpl;
}

}  // namespace

// =============================================================================================
// H5Writer
// =============================================================================================

H5Writer::H5Writer(std::string final_path) : final_path_(std::move(final_path)) {
  hdf5_silence();
  // A regular file (or a new path) is replaced by a temp file beside it; a device, FIFO or stdout is
  // filled from a private temp file at commit() (HDF5 needs a seekable file).
  const OutputTarget target = check_output(final_path_);
  const bool beside = target.kind == OutputKind::replace;
  const int fd = temp_create(beside ? parent_dir(final_path_) : private_temp_dir(),
                             beside ? base_name(final_path_) : "v4oracle-out", &temp_path_, final_path_);
  struct stat mine;
  const bool have_mine = ::fstat(fd, &mine) == 0;
  Hid fcpl = plist(H5P_FILE_CREATE);
  H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
  H5Pset_obj_track_times(fcpl, false);  // the root group's object header: no timestamps
  Hid fapl = plist(H5P_FILE_ACCESS);
  H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);  // one fixed on-disk format version
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  // HDF5 opens by name: the file we created exclusively above is reopened (truncating an empty file),
  // and its inode is checked below, so a swap of the name in between is detected, not written through.
  file_ = H5Fcreate(temp_path_.c_str(), H5F_ACC_TRUNC, fcpl, fapl);
  bool same = false;
  if (file_ >= 0 && have_mine) {
    void* handle = nullptr;
    struct stat theirs;
    same = H5Fget_vfd_handle(file_, fapl, &handle) >= 0 && handle &&
           ::fstat(*static_cast<int*>(handle), &theirs) == 0 && theirs.st_dev == mine.st_dev &&
           theirs.st_ino == mine.st_ino;
  }
  ::close(fd);
  if (file_ < 0 || !same) {
    const std::string why = file_ < 0 ? hdf5_error_text() : "the temporary file was replaced while opening it";
    if (file_ >= 0) H5Fclose(file_);
    file_ = -1;
    temp_remove(temp_path_);
    throw InputError(final_path_, "", "cannot create the temporary output file " + temp_path_ + ": " + why);
  }
}

H5Writer::~H5Writer() {
  if (!committed_) discard();
}

void H5Writer::discard() noexcept {
  if (file_ >= 0) H5Fclose(file_);  // strong close degree: closes every object still open
  file_ = -1;
  temp_remove(temp_path_);
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
      writer_check(H5Dwrite(dset, fmt_mem_type(t.fmt), H5S_ALL, H5S_ALL, H5P_DEFAULT, t.data.data()), final_path_,
                   "writing " + path);
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
  return H5DatasetStream(this, canonical_path(path), fmt, std::move(shape), dset);
}

namespace {

// Setting an attribute again replaces it: the old one is deleted first (the new one is created last).
void delete_attr_if_present(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) > 0) h5_check(H5Adelete(obj, name.c_str()), "H5Writer: replacing " + name);
}

}  // namespace

void H5Writer::set_root_attr(const std::string& name, const std::string& value) {
  require_open("set_root_attr");
  delete_attr_if_present(file_, name);
  write_str_attr(file_, name.c_str(), value);
}
void H5Writer::set_root_attr(const std::string& name, int64_t value) {
  require_open("set_root_attr");
  delete_attr_if_present(file_, name);
  write_scalar_attr(file_, name.c_str(), H5T_STD_I64LE, H5T_NATIVE_INT64, value);
}
void H5Writer::set_root_attr(const std::string& name, double value) {
  require_open("set_root_attr");
  delete_attr_if_present(file_, name);
  write_scalar_attr(file_, name.c_str(), H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, value);
}

void H5Writer::set_dataset_attr(const std::string& dataset, const std::string& name, const std::string& value) {
  require_open("set_dataset_attr");
  const std::vector<std::string> parts = split_path(dataset);
  const std::string full = canonical_path(dataset);
  check_extra_attr_name(full, name);
  if (object_type(file_, parts) != H5I_DATASET) throw std::invalid_argument("H5Writer: no dataset " + full);
  Hid dset(H5Dopen2(file_, full.c_str(), H5P_DEFAULT), H5Dclose);
  h5_check_id(dset, "H5Writer: opening dataset " + full);
  try {
    delete_attr_if_present(dset, name);
    write_str_attr(dset, name.c_str(), value);
  } catch (...) {
    poisoned_ = true;  // the attribute may be gone without its replacement
    throw;
  }
}

namespace {

void fsync_path(const std::string& path, int flags, const std::string& output) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw OutputError(output, "cannot open " + path + " to fsync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw OutputError(output, "cannot write (fsync " + path + "): " + std::strerror(err));
}

}  // namespace

void H5Writer::commit() {
  require_open("commit");
  if (open_streams_ > 0) throw std::logic_error("H5Writer::commit: " + final_path_ + ": a dataset stream is unfinished");
  if (poisoned_)
    throw std::logic_error("H5Writer::commit: " + final_path_ +
                           ": a dataset is incomplete (a stream dropped before finish(), or a failed write)");
  const OutputTarget target = check_output(final_path_);
  try {
    writer_check(H5Fflush(file_, H5F_SCOPE_GLOBAL), final_path_, "flushing");
    const herr_t closed = H5Fclose(file_);
    file_ = -1;
    writer_check(closed, final_path_, "closing");
    if (target.kind != OutputKind::replace) {
      copy_to_in_place(temp_path_, target);
      temp_remove(temp_path_);
      committed_ = true;
      return;
    }
    fsync_path(temp_path_, O_RDONLY, final_path_);
    if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0)
      throw OutputError(final_path_, "cannot rename the temporary file into place: " + std::string(std::strerror(errno)));
    temp_forget(temp_path_);
  } catch (...) {
    discard();
    throw;
  }
  committed_ = true;
  try {
    fsync_path(parent_dir(final_path_), O_RDONLY | O_DIRECTORY, final_path_);  // make the rename itself durable
  } catch (const OutputError&) {
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
    writer_check(H5Dwrite(dset_, fmt_mem_type(fmt_), mspace, fspace, H5P_DEFAULT, p), writer_->final_path(),
                 "writing " + path_);
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
  writer_check(closed, writer_->final_path(), "closing " + path_);
}

}  // namespace v4::golden
