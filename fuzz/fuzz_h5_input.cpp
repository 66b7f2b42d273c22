// libFuzzer target: the HDF5 input path as `op --inputs` and `compare` use it (golden/tensor_io.h
// H5Reader: open, forked inspection, walk, per-dataset validation, bounded reads, hash verification,
// root attributes). Bad input must be an InputError; any other exception, crash or sanitizer report in
// project code is a finding. libhdf5's own crashes and hangs are contained by the inspector (the child
// dies, the reader throws InputError), so they do not stop the run. docs/fuzzing.md.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "golden/input_error.h"
#include "golden/tensor_io.h"

namespace {

// Reads beyond this are skipped: the fuzzer looks for faults, not for big allocations of valid data.
constexpr int64_t kMaxReadBytes = int64_t(1) << 20;

// A fresh in-memory file per input: a new inode, so the reader's per-process inspection cache (keyed by
// device, inode, size, mtime and ctime) never mistakes one input for an earlier one.
struct MemFile {
  int fd = ::memfd_create("v4oracle-fuzz.h5", 0);
  ~MemFile() {
    if (fd >= 0) ::close(fd);
  }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const MemFile file;
  if (file.fd < 0) return 0;
  for (size_t done = 0; done < size;) {
    const ssize_t w = ::write(file.fd, data + done, size - done);
    if (w <= 0) return 0;
    done += size_t(w);
  }
  const std::string path = file.path();
  try {
    const v4::golden::H5Reader r(path);
    for (const std::string& name : r.root_attr_names()) {
      try {
        (void)r.root_str(name);
      } catch (const v4::golden::InputError&) {
      }
    }
    for (const std::string& ds : r.datasets()) {
      try {
        const v4::golden::TensorInfo info = r.info(ds);
        if (info.stored_bytes > kMaxReadBytes) continue;
        (void)r.read(ds);
        if (!info.shape.empty()) (void)r.read_rows(ds, 0, std::min<int64_t>(info.shape[0], 2));
        if (!info.sha256.empty()) (void)r.verify_hash(ds);
      } catch (const v4::golden::InputError&) {
      }
    }
  } catch (const v4::golden::InputError&) {
  }
  return 0;
}
