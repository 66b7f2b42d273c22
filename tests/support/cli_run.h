// Running the v4oracle binary from a test: the binary's path ($V4ORACLE_BIN, set by ctest, else the build
// tree's), one command with stdout and stderr captured to files, and reading a file whole. Shared by the
// tests that drive the CLI (test_cli, test_op_registry, test_untrusted).
#pragma once
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace v4::test {

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

inline std::string v4oracle_binary() {
  const char* bin = std::getenv("V4ORACLE_BIN");
  return bin ? bin : V4ORACLE_BINARY_DIR "/cli/v4oracle";
}

struct CliRun {
  int status;  // exit status; -1 when killed by a signal
  std::string out, err;
  double seconds;
};

// Runs `v4oracle ARGS` through bash (so `prefix` may hold shell setup such as "ulimit -f 4;"), stdout and
// stderr captured in files under capture_dir.
inline CliRun run_cli(const std::string& args, const std::filesystem::path& capture_dir, const std::string& prefix = "") {
  const std::string o = (capture_dir / "stdout.txt").string(), e = (capture_dir / "stderr.txt").string();
  const std::string cmd = prefix + " " + v4oracle_binary() + " " + args + " >" + o + " 2>" + e;
  const auto t0 = std::chrono::steady_clock::now();
  const int rc = std::system(("bash -c '" + cmd + "'").c_str());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(o), slurp(e), s};
}

}  // namespace v4::test
