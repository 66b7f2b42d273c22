// Output files (output_file.h): target classification, exclusive temp files with signal cleanup, and
// all-or-none installation of several files.
#include "golden/output_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "golden/input_error.h"

namespace v4::golden {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// ---- signal cleanup: a fixed table the handler can walk without allocating ----

constexpr int kTempSlots = 16;  // more temps than any command has open at once (an op file + 3 reports)
constexpr size_t kTempPathMax = 4096;
struct TempSlot {
  std::atomic<int> used{0};
  char path[kTempPathMax];
};
TempSlot g_slots[kTempSlots];

extern "C" void temp_signal_handler(int sig) {
  for (TempSlot& s : g_slots)
    if (s.used.load() == 1) ::unlink(s.path);  // async-signal-safe
  ::signal(sig, SIG_DFL);
  ::raise(sig);  // die of the signal, as the caller expects (status 128 + sig in a shell)
}

void install_handlers_once() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0) continue;
    if (old.sa_handler != SIG_DFL) continue;  // ignored (nohup) or someone else's: leave it
    struct sigaction sa {};
    sa.sa_handler = temp_signal_handler;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

void temp_register(const std::string& path) {
  install_handlers_once();
  if (path.size() >= kTempPathMax) return;
  for (TempSlot& s : g_slots) {
    int expect = 0;
    if (s.used.compare_exchange_strong(expect, 2)) {  // 2: being filled, the handler skips it
      std::memcpy(s.path, path.c_str(), path.size() + 1);
      s.used.store(1);
      return;
    }
  }
}

std::string random_hex16() {
  unsigned char b[8];
  if (::getrandom(b, sizeof b, 0) != ssize_t(sizeof b)) {
    // getrandom cannot fail for 8 bytes once the pool is initialised; fall back to address-space noise.
    const uint64_t x = uint64_t(reinterpret_cast<uintptr_t>(&b)) ^ (uint64_t(::getpid()) << 32) ^ uint64_t(clock());
    std::memcpy(b, &x, sizeof b);
  }
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) s += hex[c >> 4], s += hex[c & 15];
  return s;
}

}  // namespace

std::string parent_dir(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

OutputTarget check_output(const std::string& path) {
  OutputTarget t;
  t.path = path;
  if (path.empty()) throw InputError("(empty output path)", "", "an output path must not be empty");
  if (path == "-") {
    t.kind = OutputKind::stdout_;
    struct stat st;
    if (::fstat(STDOUT_FILENO, &st) == 0) t.exists = true, t.dev = st.st_dev, t.ino = st.st_ino;
    return t;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {  // follows links: a link to a device is written in place
    t.exists = true, t.dev = st.st_dev, t.ino = st.st_ino;
    if (S_ISDIR(st.st_mode)) throw InputError(path, "", "is a directory; give a file path for the output");
    if (!S_ISREG(st.st_mode)) {
      t.kind = OutputKind::in_place;
      if (::access(path.c_str(), W_OK) != 0) throw InputError(path, "", "cannot write: " + errno_text(errno));
      return t;
    }
  } else if (errno != ENOENT) {
    throw InputError(path, "", "cannot use as output: " + errno_text(errno));
  }
  if (!path.empty() && path.back() == '/') throw InputError(path, "", "is a directory path; give a file path for the output");
  const std::string dir = parent_dir(path);
  struct stat ds;
  if (::stat(dir.c_str(), &ds) != 0) throw InputError(path, "", "output directory " + dir + ": " + errno_text(errno));
  if (!S_ISDIR(ds.st_mode)) throw InputError(path, "", "output directory " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw InputError(path, "", "output directory " + dir + " is not writable: " + errno_text(errno));
  return t;
}

void check_outputs_distinct(const std::vector<OutputTarget>& outputs, const std::vector<std::string>& inputs) {
  int to_stdout = 0;
  for (const OutputTarget& o : outputs) to_stdout += o.kind == OutputKind::stdout_;
  if (to_stdout > 1) throw InputError("-", "", "only one output may be standard output");
  for (const std::string& in : inputs) {
    struct stat st;
    if (in.empty() || ::stat(in.c_str(), &st) != 0) continue;  // the reader reports a missing input
    for (const OutputTarget& o : outputs)
      if (o.exists && o.kind != OutputKind::in_place && o.dev == st.st_dev && o.ino == st.st_ino)
        throw InputError(o.path, "", "is the input " + in + "; refusing to overwrite an input");
  }
  for (size_t i = 0; i < outputs.size(); ++i)
    for (size_t j = 0; j < i; ++j) {
      const OutputTarget &a = outputs[i], &b = outputs[j];
      const bool same = (a.exists && b.exists && a.dev == b.dev && a.ino == b.ino && a.kind != OutputKind::in_place) ||
                        (a.kind == OutputKind::replace && a.path == b.path);
      if (same) throw InputError(a.path, "", "is given for two outputs (" + b.path + ")");
    }
}

int temp_create(const std::string& dir, const std::string& base, std::string* path, const std::string& for_output) {
  int last = 0;
  for (int attempt = 0; attempt < 64; ++attempt) {
    const std::string p =
        (dir == "/" ? "" : dir) + "/." + base + ".v4tmp-" + std::to_string(long(::getpid())) + "-" + random_hex16();
    const int fd = ::open(p.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd >= 0) {
      temp_register(p);
      *path = p;
      return fd;
    }
    last = errno;
    if (last != EEXIST) break;  // EEXIST: a planted file or link under that name; try another name
  }
  throw InputError(for_output, "", "cannot create a temporary file in " + dir + ": " + errno_text(last));
}

std::string private_temp_dir() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

void temp_forget(const std::string& path) noexcept {
  for (TempSlot& s : g_slots)
    if (s.used.load() == 1 && path == s.path) s.used.store(0);
}

void temp_remove(const std::string& path) noexcept {
  if (path.empty()) return;
  ::unlink(path.c_str());
  temp_forget(path);
}

void write_all(int fd, const void* bytes, size_t n, const std::string& path) {
  const auto* p = static_cast<const char*>(bytes);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw OutputError(path, "cannot write: " + errno_text(errno));
    }
    p += w, n -= size_t(w);
  }
}

int open_in_place(const OutputTarget& t) {
  if (t.kind == OutputKind::stdout_) {
    std::fflush(stdout);  // what the command printed before goes first
    return STDOUT_FILENO;
  }
  const int fd = ::open(t.path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) throw OutputError(t.path, "cannot open for writing: " + errno_text(errno));
  return fd;
}

namespace {

void close_in_place(const OutputTarget& t, int fd) {
  if (t.kind == OutputKind::stdout_) {
    std::fflush(stdout);
    return;
  }
  if (::close(fd) != 0) throw OutputError(t.path, "cannot write: " + errno_text(errno));
}

void fsync_close(int fd, const std::string& path) {
  const int rc = ::fsync(fd);
  const int e = errno;
  const int rc2 = ::close(fd);
  if (rc != 0 && e != EINVAL) throw OutputError(path, "cannot write: " + errno_text(e));
  if (rc2 != 0) throw OutputError(path, "cannot write: " + errno_text(errno));
}

}  // namespace

void copy_to_in_place(const std::string& src, const OutputTarget& t) {
  const int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) throw OutputError(t.path, "cannot reopen the temporary file " + src + ": " + errno_text(errno));
  const int out = open_in_place(t);
  std::vector<char> buf(1 << 20);
  try {
    while (true) {
      const ssize_t r = ::read(in, buf.data(), buf.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw OutputError(t.path, "cannot read back " + src + ": " + errno_text(errno));
      if (r == 0) break;
      write_all(out, buf.data(), size_t(r), t.path);
    }
  } catch (...) {
    ::close(in);
    if (out != STDOUT_FILENO) ::close(out);
    throw;
  }
  ::close(in);
  close_in_place(t, out);
}

void write_files_atomic(const std::vector<std::pair<OutputTarget, std::string>>& files) {
  std::vector<std::string> temps(files.size());
  auto drop_all = [&] {
    for (const std::string& t : temps) temp_remove(t);
  };
  try {
    for (size_t i = 0; i < files.size(); ++i) {
      const OutputTarget& t = files[i].first;
      if (t.kind != OutputKind::replace) continue;
      const int fd = temp_create(parent_dir(t.path), base_name(t.path), &temps[i], t.path);
      try {
        write_all(fd, files[i].second.data(), files[i].second.size(), t.path);
      } catch (...) {
        ::close(fd);
        throw;
      }
      fsync_close(fd, t.path);
    }
    for (size_t i = 0; i < files.size(); ++i) {
      if (temps[i].empty()) continue;
      if (std::rename(temps[i].c_str(), files[i].first.path.c_str()) != 0)
        throw OutputError(files[i].first.path, "cannot rename the temporary file into place: " + errno_text(errno));
      temp_forget(temps[i]);
      temps[i].clear();
    }
  } catch (...) {
    drop_all();
    throw;
  }
  for (const auto& [t, content] : files) {
    if (t.kind == OutputKind::replace) continue;
    const int fd = open_in_place(t);
    try {
      write_all(fd, content.data(), content.size(), t.path);
    } catch (...) {
      if (fd != STDOUT_FILENO) ::close(fd);
      throw;
    }
    close_in_place(t, fd);
  }
}

}  // namespace v4::golden
