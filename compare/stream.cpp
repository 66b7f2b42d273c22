// File streaming of the comparator: see stream.h. Raw (contiguous, uncompressed, little-endian)
// datasets are mapped or pread at their file offset; anything else goes through HDF5 a few dim-0 rows
// at a time.
#include "compare/stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <numeric>

namespace v4::compare {

using golden::InputError;
using golden::TensorInfo;

int64_t numel_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

OpenFile::OpenFile(const std::string& p, bool candidate)
    : path(p), h5(p), schema(h5), meta(candidate ? golden::check_candidate_meta(h5) : golden::check_file_meta(h5)) {
  fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(p, "", std::string("cannot open: ") + std::strerror(errno));
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

OpenFile::~OpenFile() {
  if (fd >= 0) ::close(fd);
}

namespace {

// Stored byte offset of flat element e (e a multiple of the plan's unit, or numel): whole padded rows
// for e2m1x2 with an odd last dim, else the format's packing of e elements.
int64_t stored_offset(Fmt f, const ChunkPlan& p, int64_t e) {
  if (f == Fmt::e2m1x2 && p.row_len > 0) return (e / p.row_len) * fmt_row_bytes(f, p.row_len);
  return fmt_row_bytes(f, e);
}

}  // namespace

ChunkPlan make_plan(const TensorInfo& info, int64_t chunk_bytes, int64_t row_multiple, bool need_dim0_rows,
                    int64_t inner) {
  ChunkPlan p;
  p.numel = numel_of(info.shape);
  const bool padded = info.fmt == Fmt::e2m1x2 && info.shape.size() >= 2 && info.shape.back() % 2 != 0;
  if (padded) p.row_len = info.shape.back();
  int64_t unit = padded ? info.shape.back() : info.fmt == Fmt::e2m1x2 ? 2 : 1;
  const auto lcm = [](int64_t a, int64_t b) { return a / std::gcd(a, b) * b; };
  if (row_multiple > 1) unit = lcm(unit, row_multiple);
  if (need_dim0_rows) unit = lcm(unit, inner);
  if (info.shape.empty()) unit = 1;
  p.unit = std::max<int64_t>(1, unit);
  const double bytes_per_elem = info.fmt == Fmt::e2m1x2 ? 0.5 : double(fmt_storage_size(info.fmt));
  const int64_t fit = int64_t(double(chunk_bytes) / bytes_per_elem) / p.unit * p.unit;
  p.chunk = std::max(p.unit, fit);
  return p;
}

void View::map(int fd, uint64_t offset, uint64_t bytes, const std::string& file, const std::string& ds) {
  unmap();
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE)), start = offset / page * page;
  map_len_ = size_t(offset + bytes - start);
  map_ = ::mmap(nullptr, map_len_, PROT_READ, MAP_PRIVATE, fd, off_t(start));
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw InputError(file, ds, std::string("cannot map the data: ") + std::strerror(errno));
  }
  data_ = static_cast<const uint8_t*>(map_) + (offset - start);
  size_ = int64_t(bytes);
}

void View::unmap() {
  if (map_) ::munmap(map_, map_len_);
  map_ = nullptr, data_ = nullptr, size_ = 0;
}

Source::Source(const OpenFile& f, std::string dataset, TensorInfo info)
    : f_(f), ds_(std::move(dataset)), info_(std::move(info)) {
  if (info_.shape.size() >= 2 && info_.shape[0] > 0) inner_ = std::max<int64_t>(1, numel_of(info_.shape) / info_.shape[0]);
}

void Source::fetch(const ChunkPlan& p, int64_t e0, int64_t e1, View& v) const {
  if (info_.raw) {
    const int64_t b0 = stored_offset(info_.fmt, p, e0), b1 = stored_offset(info_.fmt, p, e1);
    if (b1 > b0) return v.map(f_.fd, info_.raw->offset + uint64_t(b0), uint64_t(b1 - b0), f_.path, ds_);
  }
  read(p, e0, e1, v.buffer());
  v.use_buffer();
}

void Source::read(const ChunkPlan& p, int64_t e0, int64_t e1, std::vector<uint8_t>& buf) const {
  const int64_t b0 = stored_offset(info_.fmt, p, e0), b1 = stored_offset(info_.fmt, p, e1);
  buf.resize(size_t(b1 - b0));
  if (b1 == b0) return;
  if (info_.raw) {
    pread_all(int64_t(info_.raw->offset) + b0, b1 - b0, buf.data());
    if (info_.fmt == Fmt::e2m1x2 && p.row_len == 0 && (e1 & 1)) buf.back() &= 0x0F;  // next element's nibble
    return;
  }
  if (info_.shape.empty()) {
    const Tensor t = f_.h5.read(ds_);
    std::memcpy(buf.data(), t.data.data(), buf.size());
    return;
  }
  // Whole dim-0 rows covering the range (rank-1 e2m1x2: rows are elements and e0 is even).
  const int64_t r0 = e0 / inner_, r1 = std::min(info_.shape[0], (e1 + inner_ - 1) / inner_);
  const Tensor t = f_.h5.read_rows(ds_, r0, r1 - r0);
  const int64_t base = stored_offset(info_.fmt, p, r0 * inner_);
  std::memcpy(buf.data(), t.data.data() + (b0 - base), buf.size());
  if (info_.fmt == Fmt::e2m1x2 && p.row_len == 0 && (e1 & 1)) buf.back() &= 0x0F;
}

void Source::pread_all(int64_t off, int64_t n, uint8_t* dst) const {
  while (n > 0) {
    const ssize_t got = ::pread(f_.fd, dst, size_t(std::min<int64_t>(n, int64_t(1) << 30)), off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw InputError(f_.path, ds_, std::string("read error: ") + std::strerror(errno));
    if (got == 0) throw InputError(f_.path, ds_, "truncated file: the data ends past the end of the file");
    dst += got, off += got, n -= got;
  }
}

PlannedSource::PlannedSource(const OpenFile& f, const std::string& dataset, int64_t chunk_bytes, int64_t row_multiple)
    : src(f, dataset, f.h5.info(dataset)),
      plan(make_plan(src.info(), chunk_bytes, row_multiple, !src.raw(), src.inner())) {}

}  // namespace v4::compare
