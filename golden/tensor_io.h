// HDF5 tensor IO: the storage layer under every golden file (design.md §5). A tensor is a logical format
// (Fmt), a logical shape and its raw little-endian storage bytes; low-precision data is stored as raw
// codes (uint8/uint16), never widened. Every dataset carries `format`, `logical_shape` and `sha256`
// attributes (plus `scale`/`block` for quantized tensors, and any extra string attributes a layer above
// names, such as golden_schema's links); groups and dataset attributes track creation order so readers
// walk tensors in model order and extra attributes in the order they were written. H5Writer writes to a
// temporary file and renames it on commit (atomic); H5Reader validates everything it reads and reports bad
// input as one-line InputErrors. Uses the HDF5 C API only; not thread-safe (one reader or writer per
// thread). docs/hdf5-tensors.md. Implemented in h5_writer.cpp and h5_reader.cpp on the shared HDF5
// plumbing of h5_util.h; the hash is sha256.h.
#pragma once
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "golden/input_error.h"
#include "golden/sha256.h"
#include "reference/tensor.h"

namespace v4::golden {

// Dataset attribute names tensor_io itself writes and interprets; `extra` may not use them.
inline constexpr std::array<std::string_view, 5> kReservedTensorAttrs = {"format", "logical_shape", "scale", "block",
                                                                          "sha256"};

// A dataset's attributes beyond its format and shape. `scale`/`block` link a quantized tensor to its
// scale dataset: `scale` is the scale dataset's path, `block` the block shape in logical elements (one
// entry per dimension); both empty for unquantized tensors. `extra` holds further string attributes in
// order: written in that order (a reserved or repeated name is std::invalid_argument); read back as every
// single-string attribute whose name is not reserved, in creation order where the dataset tracks it
// (ours do), else in name order. Attributes of other types and string arrays are not read into `extra`.
struct TensorAttrs {
  std::string scale;
  std::vector<int64_t> block;
  std::vector<std::pair<std::string, std::string>> extra{};  // {} keeps {scale, block} initializers warning-free
  bool operator==(const TensorAttrs&) const = default;
};

// Where a dataset's bytes lie in the file, when they can be read with pread or mmap: contiguous layout,
// allocated inside the file, little-endian storage of the format's width (bytes == 0: an empty tensor).
struct RawExtent {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  bool operator==(const RawExtent&) const = default;
};

// What a dataset holds, without reading its data.
struct TensorInfo {
  Fmt fmt = Fmt::f32;
  std::vector<int64_t> shape;         // logical
  std::vector<int64_t> stored_shape;  // HDF5 dataspace
  TensorAttrs attrs;
  int64_t stored_bytes = 0;
  std::string sha256;  // hex from the `sha256` attribute; empty when the dataset has none
  bool has_format_attr = true;  // false: a plain float32/int32/int64 dataset taken as f32/i32/i64, 16-bit integers as bf16
  bool int16_codes = false;     // bf16 codes stored as signed 16-bit integers (torch's view(torch.int16)): same bits
  // The stored bytes' place in the file when they can be read without HDF5 (checked against the file's
  // size); nullopt for chunked, compressed, compact or big-endian data, which is read through H5Reader.
  std::optional<RawExtent> raw;
  // Unreserved attribute names that are not single strings (so not in attrs.extra), in the order of extra.
  std::vector<std::string> other_attrs;
  bool operator==(const TensorInfo&) const = default;
};

// ---------------------------------------------------------------------------------------------
class H5Writer;
struct ReaderCatalog;  // golden/reader_catalog.h

// Streams one dataset into an H5Writer along dim 0, for tensors too big for memory. Rows are logical
// indices along dim 0 and must be written in order (row0 == rows written so far), so the sha256 is
// computed on the fly; finish() requires every row written and stores the sha256 attribute. For a
// rank-1 e2m1x2 tensor a row is one element and every write except the last must have an even row0
// and nrows (two elements share a byte). The H5Writer must outlive the stream. A stream destroyed
// without finish() poisons the writer: its commit() then throws.
class H5DatasetStream {
 public:
  H5DatasetStream(H5DatasetStream&& o) noexcept;
  H5DatasetStream& operator=(H5DatasetStream&&) = delete;
  H5DatasetStream(const H5DatasetStream&) = delete;
  ~H5DatasetStream();

  // `bytes` holds the stored bytes of rows [row0, row0 + nrows), i.e. stored_row_bytes(nrows) bytes.
  void write_rows(int64_t row0, int64_t nrows, const void* bytes);
  void finish();
  int64_t rows_written() const { return next_row_; }
  int64_t stored_bytes_for_rows(int64_t nrows) const;  // bytes write_rows expects for nrows rows

 private:
  friend class H5Writer;
  H5DatasetStream(H5Writer* w, std::string path, Fmt fmt, std::vector<int64_t> shape, int64_t dset);
  H5Writer* writer_;
  std::string path_;
  Fmt fmt_;
  std::vector<int64_t> shape_;
  int64_t dset_;  // hid_t of the open dataset; -1 once closed
  int64_t next_row_ = 0;
  Sha256 sha_;
  bool finished_ = false;
};

// Writes a golden file atomically (golden/output_file.h): everything goes to a temp file created
// exclusively, never following a link, under an unpredictable name in the same directory; commit()
// flushes, closes, fsyncs and renames it onto final_path. A final_path that is a device or FIFO (or a
// link to one) or "-" (stdout) is instead filled in place from a private temp file at commit(). A
// directory or an unwritable directory is an InputError at construction; a write failure (disk full)
// is an OutputError. Destroyed without commit() (or on SIGINT/SIGTERM), the temp file is removed and an
// existing file at final_path is never touched. Output bytes depend only on the
// sequence of calls and the data (no timestamps, fixed HDF5 format version, contiguous layout).
class H5Writer {
 public:
  explicit H5Writer(std::string final_path);  // InputError if the temp file cannot be created
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  // `path` like "/layers/0/rmsnorm/y"; intermediate groups are created (in creation order). A path that
  // already exists is a std::invalid_argument, as is data of the wrong size, a block of the wrong rank,
  // or an odd e2m1x2 row whose padding nibble is not 0.
  void write(const std::string& path, const Tensor& t, const TensorAttrs& attrs = {});
  H5DatasetStream begin_dataset(const std::string& path, Fmt fmt, std::vector<int64_t> shape,
                                const TensorAttrs& attrs = {});

  // Free-form root attributes (string, int64, float64); setting a name again replaces the value.
  void set_root_attr(const std::string& name, const std::string& value);
  void set_root_attr(const std::string& name, const char* value) { set_root_attr(name, std::string(value)); }
  void set_root_attr(const std::string& name, int64_t value);
  template <std::integral I>
    requires(!std::same_as<I, bool> && !std::same_as<I, int64_t>)
  void set_root_attr(const std::string& name, I value) {
    set_root_attr(name, int64_t(value));
  }
  void set_root_attr(const std::string& name, double value);

  // A string attribute on a dataset already written (or being streamed), after its other attributes, as
  // if it had been in TensorAttrs::extra; setting a name again replaces it (and moves it last). A reserved
  // name or a missing dataset is std::invalid_argument.
  void set_dataset_attr(const std::string& dataset, const std::string& name, const std::string& value);

  void commit();
  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  friend class H5DatasetStream;
  int64_t create_dataset(const std::string& path, Fmt fmt, const std::vector<int64_t>& shape,
                         const TensorAttrs& attrs);
  void require_open(const char* what) const;
  void discard() noexcept;
  std::string final_path_, temp_path_;
  int64_t file_ = -1;  // hid_t; -1 once closed
  int open_streams_ = 0;
  bool poisoned_ = false;
  bool committed_ = false;
};

// Reads and validates golden (or any HDF5) tensor files. Every problem with the file's content is an
// InputError naming the file, the dataset and the problem; API misuse (rows out of range) is
// std::out_of_range / std::invalid_argument. Data is read only where asked (read, read_rows).
// The file is inspected first (golden/untrusted.h), and the metadata the inspector validated (the
// dataset list, every dataset's TensorInfo) is taken from it instead of being read a second time; what
// a reader reads itself is remembered for its lifetime (the file is opened read-only and not expected
// to change underneath).
class H5Reader {
 public:
  explicit H5Reader(std::string path);  // InputError if missing, unreadable, truncated or not HDF5
  ~H5Reader();
  H5Reader(const H5Reader&) = delete;
  H5Reader& operator=(const H5Reader&) = delete;

  const std::string& path() const { return path_; }
  bool has(const std::string& dataset) const;  // a dataset (not a group) exists at that path
  bool has_group(const std::string& path) const;  // a group exists at that path (so "missing" would mislead)
  TensorInfo info(const std::string& dataset) const;
  Tensor read(const std::string& dataset, std::optional<Fmt> expect = {}, TensorAttrs* attrs = nullptr) const;
  // Rows [row0, row0 + nrows) along dim 0 (a hyperslab): shape {nrows, shape[1:]...}. For rank-1
  // e2m1x2, row0 must be even.
  Tensor read_rows(const std::string& dataset, int64_t row0, int64_t nrows) const;
  // Every dataset path, depth-first in creation order (a group's links in creation order, descending
  // into each group where it appears); name order for groups that do not track creation order.
  std::vector<std::string> datasets() const;
  // Recomputes the sha256 of the stored bytes (streamed, bounded memory) and compares it with the
  // `sha256` attribute; InputError if the dataset has no such attribute.
  bool verify_hash(const std::string& dataset) const;

  // Root attributes: nullopt when absent; InputError when present with another type.
  std::optional<std::string> root_str(const std::string& name) const;
  std::optional<int64_t> root_i64(const std::string& name) const;
  std::optional<double> root_f64(const std::string& name) const;
  std::vector<std::string> root_attr_names() const;  // in name order

  // How many datasets' metadata this reader has read with libhdf5 itself (each at most once); the rest
  // came from the inspector's catalog. For tests and benchmarks of the hand-over.
  int64_t own_inspections() const { return own_inspections_; }

 private:
  friend struct ReaderAccess;  // golden/untrusted.cpp: the inspector exports what its reader walked
  int64_t open_dataset(const std::string& dataset) const;  // hid_t; InputError if absent
  TensorInfo info_of(int64_t dset, const std::string& canonical) const;  // memoized inspect
  std::string path_;
  uint64_t file_size_ = 0;  // bytes, at open
  int64_t file_ = -1;
  std::unique_ptr<ReaderCatalog> known_;  // metadata validated so far (from the inspector, then memoized)
  mutable int64_t own_inspections_ = 0;
};

}  // namespace v4::golden
