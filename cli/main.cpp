// v4oracle: entry point. Parses the command line, runs the chosen subcommand, and maps errors onto the
// exit statuses of design.md §6: bad usage or bad input -> one line on stderr and status 2; an output that
// cannot be written (disk full) -> one line and status 4.
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "cli/commands.h"
#include "golden/input_error.h"
#include "golden/output_file.h"
#include "v4oracle_version.h"

namespace {

// design.md §6: every error is one line, whatever the message (HDF5 text) contained. The process then
// ends without exit handlers: libhdf5's own would retry flushing an output that just failed to write
// (disk full), and could crash doing so; temp files are already removed by then.
[[noreturn]] void fail_with(int status, const char* kind, const char* what) {
  std::string s = what;
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  std::fprintf(stderr, "v4oracle: %s: %s\n", kind, s.c_str());
  std::fflush(nullptr);
  std::_Exit(status);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"v4oracle: deterministic simulator and bit-exact correctness oracle for DeepSeek-V4 numerics"};
  app.set_version_flag("--version", std::string(V4ORACLE_VERSION) + " (" + V4ORACLE_GIT_COMMIT + ")");
  app.require_subcommand(1);
  for (v4::cli::RegisterFn reg : v4::cli::commands()) reg(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return v4::cli::kExitBadInput;
  } catch (const v4::cli::ExitStatus& e) {
    return e.code;
  } catch (const v4::golden::InputError& e) {
    fail_with(v4::cli::kExitBadInput, "error", e.what());
  } catch (const v4::golden::OutputError& e) {
    fail_with(v4::cli::kExitOutput, "error", e.what());
  } catch (const std::invalid_argument& e) {
    fail_with(v4::cli::kExitBadInput, "error", e.what());
  } catch (const std::exception& e) {
    fail_with(3, "internal error", e.what());
  }
  return v4::cli::kExitOk;
}
