// File streaming of the comparator (internal to compare/): two files' datasets read piecewise, in flat
// element ranges of bounded size, so memory stays about 2 x CompareOptions::chunk_bytes whatever the
// tensor sizes. Contiguous datasets are read in place through read-only file mappings of one range at a
// time (no copy out of the page cache; OpenMP threads fault pages in parallel); HDF5 itself is not
// thread-safe and serves only the metadata and chunked/compressed datasets, serially, through a bounded
// buffer. Every range starts on a multiple of the plan's unit (whole e2m1x2 bytes, whole rows when a
// caller needs them), so a range's bytes can be decoded on their own.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "golden/file_meta.h"
#include "golden/golden_schema.h"
#include "golden/tensor_io.h"

namespace v4::compare {

int64_t numel_of(const std::vector<int64_t>& shape);  // product of the dims (1 for rank 0)

// One open file: HDF5 reader (metadata, fallback reads), schema reader (links) through it, its checked
// root metadata, and a plain descriptor for pread and mmap (at TensorInfo::raw).
struct OpenFile {
  std::string path;
  golden::H5Reader h5;
  golden::SchemaReader schema;
  golden::FileMeta meta;
  int fd = -1;
  // InputError when the file cannot be opened or its metadata is bad. A candidate (candidate = true)
  // may carry no v4oracle root attributes at all (a plain h5py dump): the golden carries the metadata.
  explicit OpenFile(const std::string& p, bool candidate = false);
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
};

// How a tensor is cut into flat element ranges. Every range starts on a multiple of `unit`.
struct ChunkPlan {
  int64_t numel = 0;
  int64_t unit = 1;      // elements
  int64_t row_len = 0;   // e2m1x2 with padded rows: logical last dim; else 0
  int64_t chunk = 1;     // elements per range (a multiple of unit)
};

// The plan of one dataset: ranges of about chunk_bytes stored bytes, each a whole number of
// row_multiple elements (e.g. top-k rows), of whole dim-0 rows of `inner` elements when need_dim0_rows
// (HDF5 fallback reads), and of whole stored bytes (e2m1x2: padded rows, or element pairs).
ChunkPlan make_plan(const golden::TensorInfo& info, int64_t chunk_bytes, int64_t row_multiple, bool need_dim0_rows,
                    int64_t inner);

// Stored bytes of a range of a tensor: a read-only file mapping (contiguous datasets: the page cache is
// compared in place, no copy) or an owned buffer (HDF5 fallback reads).
class View {
 public:
  View() = default;
  View(const View&) = delete;
  View& operator=(const View&) = delete;
  ~View() { unmap(); }
  const uint8_t* data() const { return data_; }
  int64_t size() const { return size_; }
  // Maps [offset, offset + bytes) of fd; InputError naming file and dataset when it cannot.
  void map(int fd, uint64_t offset, uint64_t bytes, const std::string& file, const std::string& ds);
  std::vector<uint8_t>& buffer() {
    unmap();
    return buf_;
  }
  void use_buffer() { data_ = buf_.data(), size_ = int64_t(buf_.size()); }

 private:
  void unmap();
  void* map_ = nullptr;
  size_t map_len_ = 0;
  std::vector<uint8_t> buf_;
  const uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

// Reads the stored bytes of flat elements [e0, e1) of one dataset of an open file (which must outlive it).
class Source {
 public:
  Source(const OpenFile& f, std::string dataset, golden::TensorInfo info);
  bool raw() const { return info_.raw.has_value(); }
  int64_t inner() const { return inner_; }  // elements per dim-0 row (fallback reads need whole rows)
  const std::string& dataset() const { return ds_; }
  const golden::TensorInfo& info() const { return info_; }

  // Bytes of [e0, e1) per plan p into v: mapped when raw (the file size was checked against the extent
  // when it was located), else read through HDF5.
  void fetch(const ChunkPlan& p, int64_t e0, int64_t e1, View& v) const;
  // Bytes of [e0, e1) per plan p. Raw: one pread; fallback: the dim-0 rows covering the range, sliced.
  void read(const ChunkPlan& p, int64_t e0, int64_t e1, std::vector<uint8_t>& buf) const;

 private:
  void pread_all(int64_t off, int64_t n, uint8_t* dst) const;
  const OpenFile& f_;
  std::string ds_;
  golden::TensorInfo info_;
  int64_t inner_ = 1;
};

// A dataset of `f` with its plan (row_multiple as in make_plan; whole dim-0 rows when not raw).
struct PlannedSource {
  Source src;
  ChunkPlan plan;
  PlannedSource(const OpenFile& f, const std::string& dataset, int64_t chunk_bytes, int64_t row_multiple = 1);
};

// Streams two datasets of one format and shape with one plan: fn(e0, e1, a, b) for consecutive ranges
// [e0, e1) covering every element in order, a and b holding that range's stored bytes of each side.
// Returns the bytes fetched from both.
template <class Fn>
int64_t stream_pair(const Source& a, const Source& b, const ChunkPlan& p, Fn&& fn) {
  View va, vb;
  int64_t bytes = 0;
  for (int64_t e0 = 0; e0 < p.numel; e0 += p.chunk) {
    const int64_t e1 = std::min(p.numel, e0 + p.chunk);
    a.fetch(p, e0, e1, va);
    b.fetch(p, e0, e1, vb);
    bytes += va.size() + vb.size();
    fn(e0, e1, va, vb);
  }
  return bytes;
}

}  // namespace v4::compare
