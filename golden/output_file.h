// Output files of every command (HDF5 files of `op`/`cast`, compare's reports): where they may go and how
// they land. An output path is checked before any computation (check_output); a regular file or a new
// path is replaced atomically through a temp file created exclusively beside it; a device, FIFO or a
// link to one is written in place; "-" is standard output. Temp files are named
// `.<name>.v4tmp-<pid>-<16 random hex>`, created with O_CREAT|O_EXCL|O_NOFOLLOW (a planted file or link
// makes creation retry under another name, never write through it) and removed on SIGINT, SIGTERM and
// SIGHUP as well as on every error path; docs/hdf5-tensors.md says how stale ones (kill -9) are found.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace v4::golden {

// Writing an output failed after it was accepted (disk full, I/O error, quota): one line
// "<path>: <problem>"; the CLI exits with kExitOutput (4).
struct OutputError : std::runtime_error {
  OutputError(const std::string& path, const std::string& problem) : std::runtime_error(one_line(path + ": " + problem)) {}

 private:
  static std::string one_line(std::string s) {
    for (char& c : s)
      if (c == '\n' || c == '\r') c = ' ';
    return s;
  }
};

enum class OutputKind {
  replace,   // regular file or a path that does not exist yet: temp file beside it, then rename
  in_place,  // character/block device, FIFO or socket (or a link to one): opened and written as it is
  stdout_,   // "-": standard output
};

struct OutputTarget {
  std::string path;
  OutputKind kind = OutputKind::replace;
  bool exists = false;
  unsigned long long dev = 0, ino = 0;  // of what the path names (links followed), when it exists
};

// Classifies an output path; InputError (exit 2) when it cannot be one: a directory, a missing or
// unwritable parent directory, an empty path.
OutputTarget check_output(const std::string& path);
// InputError when an output names the same file (same device and inode) as an input, or as another
// output, or when more than one output is standard output.
void check_outputs_distinct(const std::vector<OutputTarget>& outputs, const std::vector<std::string>& inputs);

// ---- temp files ----

// Creates `<dir>/.<base>.v4tmp-<pid>-<random>` exclusively (mode 0666 less the umask) and registers it
// for removal on SIGINT/SIGTERM/SIGHUP. Returns the open descriptor (O_RDWR|O_CLOEXEC); `path` receives
// the name. `base` is the final file's name (the temp sorts next to it). InputError when it cannot be
// created.
int temp_create(const std::string& dir, const std::string& base, std::string* path, const std::string& for_output);
// The directory of temp files for in-place and stdout targets: $TMPDIR, else /tmp.
std::string private_temp_dir();
// Removes the temp file and forgets it (idempotent, never throws).
void temp_remove(const std::string& path) noexcept;
// Forgets a temp file that was renamed into place.
void temp_forget(const std::string& path) noexcept;
// The directory part of a path ("." when it has none).
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);

// Writes all of `bytes` to fd; OutputError naming `path` on failure (ENOSPC, EIO, ...).
void write_all(int fd, const void* bytes, size_t n, const std::string& path);
// Opens an in-place or stdout target for writing (no O_CREAT, no truncation of a device); OutputError.
int open_in_place(const OutputTarget& t);
// Copies the whole of file `src` to the in-place or stdout target; OutputError.
void copy_to_in_place(const std::string& src, const OutputTarget& t);

// Writes several whole files, all or none: every replace-kind target gets its temp file written and
// fsynced first (any failure removes them all and throws), then each is renamed into place, then the
// in-place and stdout targets are written. `files` are {target, content}.
void write_files_atomic(const std::vector<std::pair<OutputTarget, std::string>>& files);

}  // namespace v4::golden
