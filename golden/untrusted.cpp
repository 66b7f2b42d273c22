// Containment of libhdf5 on untrusted files (untrusted.h, docs/hdf5-tensors.md §Untrusted files): the
// forked inspector with its watchdog, and the hand-over of what it validated (reader_catalog.h) to the
// process, which then does not walk the same metadata again.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <utility>

#include "golden/reader_catalog.h"
#include "golden/tensor_io.h"
#include "golden/untrusted.h"

namespace v4::golden {

// ---- the hand-over's byte string ----

namespace {

constexpr char kCatalogMagic[8] = {'V', '4', 'O', 'C', 'A', 'T', '0', '1'};
constexpr char kCatalogEnd[8] = {'E', 'N', 'D', 'C', 'A', 'T', '0', '1'};

struct Out {
  std::string s;
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) s.push_back(char(uint8_t(v >> (8 * i))));
  }
  void str(const std::string& v) { u64(v.size()), s += v; }
  void i64s(const std::vector<int64_t>& v) {
    u64(v.size());
    for (int64_t x : v) u64(uint64_t(x));
  }
  void strs(const std::vector<std::string>& v) {
    u64(v.size());
    for (const std::string& x : v) str(x);
  }
};

// Reads what Out wrote; every read is bounds-checked and a count can never exceed the bytes left, so a
// malformed string cannot make the parse allocate more than its own size.
struct In {
  const std::string& s;
  size_t pos = 0;
  bool ok = true;
  bool need(uint64_t n) {
    ok = ok && n <= s.size() - pos;
    return ok;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(s[pos + size_t(i)])) << (8 * i);
    pos += 8;
    return v;
  }
  uint64_t count(uint64_t min_bytes_each) {  // each element takes at least min_bytes_each bytes
    const uint64_t n = u64();
    ok = ok && n <= (s.size() - pos) / min_bytes_each;
    return ok ? n : 0;
  }
  std::string str() {
    const uint64_t n = count(1);
    std::string v = ok ? s.substr(pos, size_t(n)) : std::string();
    pos += size_t(n);
    return v;
  }
  std::vector<int64_t> i64s() {
    std::vector<int64_t> v(size_t(count(8)));
    for (int64_t& x : v) x = int64_t(u64());
    return v;
  }
  std::vector<std::string> strs() {
    std::vector<std::string> v(size_t(count(8)));
    for (std::string& x : v) x = str();
    return v;
  }
  bool mark(const char (&m)[8]) {
    if (!need(8) || std::memcmp(s.data() + pos, m, 8) != 0) return ok = false;
    pos += 8;
    return true;
  }
};

void put_info(Out& o, const TensorInfo& t) {
  o.u64(uint64_t(t.fmt));
  o.i64s(t.shape);
  o.i64s(t.stored_shape);
  o.str(t.attrs.scale);
  o.i64s(t.attrs.block);
  o.u64(t.attrs.extra.size());
  for (const auto& [k, v] : t.attrs.extra) o.str(k), o.str(v);
  o.u64(uint64_t(t.stored_bytes));
  o.str(t.sha256);
  o.u64(uint64_t(t.has_format_attr) | uint64_t(t.int16_codes) << 1 | uint64_t(t.raw.has_value()) << 2);
  if (t.raw) o.u64(t.raw->offset), o.u64(t.raw->bytes);
  o.strs(t.other_attrs);
}

TensorInfo get_info(In& in) {
  TensorInfo t;
  const uint64_t fmt = in.u64();
  if (fmt >= kFmtCount) in.ok = false;
  t.fmt = Fmt(in.ok ? fmt : 0);
  t.shape = in.i64s();
  t.stored_shape = in.i64s();
  t.attrs.scale = in.str();
  t.attrs.block = in.i64s();
  t.attrs.extra.resize(size_t(in.count(16)));
  for (auto& [k, v] : t.attrs.extra) k = in.str(), v = in.str();
  t.stored_bytes = int64_t(in.u64());
  t.sha256 = in.str();
  const uint64_t flags = in.u64();
  if (flags > 7) in.ok = false;
  t.has_format_attr = flags & 1, t.int16_codes = flags & 2;
  if (flags & 4) {
    t.raw = RawExtent{};
    t.raw->offset = in.u64(), t.raw->bytes = in.u64();
  }
  t.other_attrs = in.strs();
  return t;
}

}  // namespace

std::string serialize_catalog(const ReaderCatalog& c) {
  Out o;
  o.s.assign(kCatalogMagic, 8);
  o.u64(c.datasets.has_value());
  if (c.datasets) o.strs(*c.datasets);
  o.u64(c.infos.size());
  for (const auto& [name, info] : c.infos) o.str(name), put_info(o, info);
  o.s.append(kCatalogEnd, 8);
  return std::move(o.s);
}

std::optional<ReaderCatalog> parse_catalog(const std::string& bytes) {
  In in{bytes};
  ReaderCatalog c;
  if (!in.mark(kCatalogMagic)) return std::nullopt;
  const uint64_t have_list = in.u64();
  if (have_list > 1) return std::nullopt;
  if (have_list) c.datasets = in.strs();
  const uint64_t n = in.count(16);
  for (uint64_t i = 0; in.ok && i < n; ++i) {
    std::string name = in.str();
    TensorInfo info = get_info(in);
    if (in.ok && !c.infos.emplace(std::move(name), std::move(info)).second) in.ok = false;  // a name twice
  }
  if (!in.mark(kCatalogEnd) || in.pos != bytes.size()) return std::nullopt;
  return c;
}

// The reader's validated metadata, for the inspector's child to hand over.
struct ReaderAccess {
  static const ReaderCatalog& known(const H5Reader& r) { return *r.known_; }
};

// ---- the forked inspector ----

namespace {

bool g_in_inspect_child = false;  // set in the forked inspector: its own readers do not fork again

// The inspector's time limit: V4ORACLE_INSPECT_TIMEOUT_S (seconds, > 0), else kInspectTimeoutS. A valid
// file's metadata takes milliseconds to walk (docs/hdf5-tensors.md measures it); 20 s leaves room for a
// loaded CI machine and slow network storage while still bounding a hang.
constexpr double kInspectTimeoutS = 20;
double inspect_timeout_s() {
  const char* e = std::getenv("V4ORACLE_INSPECT_TIMEOUT_S");
  if (e && *e) {
    char* end = nullptr;
    const double v = std::strtod(e, &end);
    if (end && *end == 0 && v > 0) return v;
  }
  return kInspectTimeoutS;
}

// The largest hand-over accepted (bytes). A file's metadata is normally kilobytes to a few MiB (a V4-Pro
// checkpoint shard's few thousand tensors: about 1 MiB); past this the catalog is dropped and the process
// reads the (already inspected) metadata itself, so memory stays bounded by what the file describes.
constexpr size_t kMaxCatalogBytes = size_t(256) << 20;

// Walks every piece of metadata a reader above may touch: every link, every dataset's TensorInfo (all
// its attributes and the storage checks), every root attribute's value; returns the hand-over of what
// it validated. A dataset whose metadata is bad is left out of it (the process finds the problem again,
// and reports it, reading that dataset itself), and the walk goes on with the next one, so every
// dataset the process may open has been walked here first.
std::string inspect_everything(const std::string& path) {
  const H5Reader r(path);
  for (const std::string& ds : r.datasets()) {
    try {
      (void)r.info(ds);
    } catch (const InputError&) {
    }
  }
  for (const std::string& name : r.root_attr_names()) {
    try {
      if (!r.root_str(name)) continue;
    } catch (const InputError&) {
      try {
        (void)r.root_i64(name);
      } catch (const InputError&) {
        try {
          (void)r.root_f64(name);
        } catch (const InputError&) {
        }
      }
    }
  }
  return serialize_catalog(ReaderAccess::known(r));
}

// Writes all of `s` to fd (blocking); false when the reader has gone (the watchdog killed us anyway).
bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

// Files already inspected by this process (device, inode, size, modification and status-change times),
// with what their inspection handed over: a file opened twice is inspected once, and a file written
// since (which changes ctime, whatever is done to mtime) is inspected again.
struct FileKey {
  dev_t dev;
  ino_t ino;
  off_t size;
  long mtime_s, mtime_ns, ctime_s, ctime_ns;
  bool operator==(const FileKey&) const = default;
};
FileKey key_of(const struct stat& st) {
  return FileKey{st.st_dev,
                 st.st_ino,
                 st.st_size,
                 long(st.st_mtim.tv_sec),
                 long(st.st_mtim.tv_nsec),
                 long(st.st_ctim.tv_sec),
                 long(st.st_ctim.tv_nsec)};
}
struct Inspected {
  FileKey key;
  std::shared_ptr<const ReaderCatalog> catalog;  // null when the child handed nothing usable over
};
std::mutex& inspected_mutex() {
  static std::mutex m;
  return m;
}
std::vector<Inspected>& inspected_files() {
  static std::vector<Inspected> v;
  return v;
}
bool was_inspected(const FileKey& key) {
  const std::lock_guard<std::mutex> lock(inspected_mutex());
  for (const Inspected& f : inspected_files())
    if (f.key == key) return true;
  return false;
}

struct Inspection {
  std::string path;
  FileKey key;
  pid_t pid = -1;
  int fd = -1;  // read end of the pipe whose write end only the child holds
  bool ended = false;
  std::string handed;    // what the child wrote
  bool too_big = false;  // the child wrote more than kMaxCatalogBytes: dropped
};

}  // namespace

std::optional<ReaderCatalog> inspected_catalog(const struct stat& st) {
  const FileKey key = key_of(st);
  const std::lock_guard<std::mutex> lock(inspected_mutex());
  for (const Inspected& f : inspected_files())
    if (f.key == key && f.catalog) return *f.catalog;
  return std::nullopt;
}

// Walks each file's metadata with libhdf5 in a forked child (all children at once) under one watchdog;
// a crash or a hang there becomes one InputError line naming the file. Only then does this process
// touch the file with libhdf5, along the paths the child has walked. The child hands over what it
// validated; a problem it found as an InputError is found again, and reported, by the process's own
// reading.
void inspect_untrusted_files(const std::vector<std::string>& paths) {
  if (g_in_inspect_child) return;
  const char* off = std::getenv("V4ORACLE_INSPECT");
  if (off && std::string(off) == "0") return;  // for measuring the cost only (docs/hdf5-tensors.md)
  std::vector<Inspection> runs;
  auto reap_all = [&] {
    for (Inspection& r : runs) {
      if (r.fd >= 0) ::close(r.fd), r.fd = -1;
      if (r.pid > 0) {
        if (!r.ended) ::kill(r.pid, SIGKILL);
        int status = 0;
        while (::waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
        }
        r.pid = -1;
      }
    }
  };
  for (const std::string& path : paths) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // the reader reports it
    const FileKey key = key_of(st);
    bool seen = was_inspected(key);
    for (const Inspection& r : runs) seen |= r.key == key;
    if (seen) continue;
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      reap_all();
      throw InputError(path, "", std::string("cannot inspect: pipe: ") + std::strerror(errno));
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      const int e = errno;
      ::close(fds[0]), ::close(fds[1]);
      reap_all();
      throw InputError(path, "", std::string("cannot inspect: fork: ") + std::strerror(e));
    }
    if (pid == 0) {
      g_in_inspect_child = true;
      ::close(fds[0]);
      ::signal(SIGINT, SIG_DFL), ::signal(SIGTERM, SIG_DFL), ::signal(SIGHUP, SIG_DFL);  // not the parent's cleanup
      ::signal(SIGPIPE, SIG_IGN);  // a parent that stopped reading is a failed write, not a signal
      // A libhdf5 fault kills the child by its signal, quietly, also where a sanitizer or libFuzzer has
      // installed handlers (their reports would be stray stderr lines and crash files for a contained
      // fault); a sanitizer's own findings in instrumented code still report (docs/fuzzing.md).
      for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) ::signal(sig, SIG_DFL);
      std::string handed;
      try {
        handed = inspect_everything(path);
      } catch (...) {
        // A problem libhdf5 reported cleanly (no dataset list): nothing is handed over, and the
        // process's own reading reports it.
      }
      (void)write_all(fds[1], handed);
      ::_exit(0);  // no atexit handlers: the parent's open HDF5 files and stdio buffers are not flushed twice
    }
    ::close(fds[1]);
    ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
    runs.push_back({path, key, pid, fds[0], false, {}, false});
  }
  // Every child holds its pipe's write end: the read end reads as closed (end of file) the moment it
  // ends, after whatever it handed over, so the wait costs no polling.
  const double limit = inspect_timeout_s();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<char> buf(size_t(1) << 16);
  while (true) {
    std::vector<struct pollfd> pfds;
    std::vector<size_t> which;
    for (size_t i = 0; i < runs.size(); ++i)
      if (!runs[i].ended) pfds.push_back({runs[i].fd, POLLIN, 0}), which.push_back(i);
    if (pfds.empty()) break;
    const double left = limit - std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (left <= 0) break;
    const int rc = ::poll(pfds.data(), nfds_t(pfds.size()), int(std::min(left * 1000.0 + 1, 60000.0)));
    if (rc < 0 && errno != EINTR) break;
    for (size_t k = 0; rc > 0 && k < pfds.size(); ++k) {
      if (!pfds[k].revents) continue;
      Inspection& r = runs[which[k]];
      const ssize_t n = ::read(r.fd, buf.data(), buf.size());
      if (n > 0) {
        r.too_big |= r.handed.size() + size_t(n) > kMaxCatalogBytes;
        if (r.too_big) r.handed = std::string();
        else r.handed.append(buf.data(), size_t(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        r.ended = true;
      }
    }
  }
  std::vector<int> statuses(runs.size(), 0);
  for (size_t i = 0; i < runs.size(); ++i) {
    Inspection& r = runs[i];
    ::close(r.fd), r.fd = -1;
    if (!r.ended) ::kill(r.pid, SIGKILL);
    while (::waitpid(r.pid, &statuses[i], 0) < 0 && errno == EINTR) {
    }
    r.pid = -1;
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    const Inspection& r = runs[i];
    const int status = statuses[i];
    if (!r.ended) {
      char num[32];
      std::snprintf(num, sizeof num, "%g", limit);
      throw InputError(r.path, "", std::string("libhdf5 did not finish reading the file's metadata within ") + num +
                                       " s; the file is corrupt or hostile (refused)");
    }
    if (WIFSIGNALED(status))
      throw InputError(r.path, "", std::string("libhdf5 crashed (") + strsignal(WTERMSIG(status)) +
                                       ") reading the file's metadata; the file is corrupt or hostile (refused)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw InputError(r.path, "", "libhdf5 failed reading the file's metadata (status " + std::to_string(status) +
                                       "); the file is corrupt or hostile (refused)");
  }
  const std::lock_guard<std::mutex> lock(inspected_mutex());
  for (Inspection& r : runs) {
    std::optional<ReaderCatalog> c = r.too_big ? std::nullopt : parse_catalog(r.handed);
    inspected_files().push_back({r.key, c ? std::make_shared<const ReaderCatalog>(std::move(*c)) : nullptr});
  }
}

}  // namespace v4::golden
