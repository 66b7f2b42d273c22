// v4oracle: entry point. Parses the command line, runs the chosen subcommand, and maps errors onto the
// exit statuses of design.md §6: bad usage or bad input -> one line on stderr and status 2.
#include <cstdio>
#include <stdexcept>

#include "cli/commands.h"
#include "golden/input_error.h"
#include "v4oracle_version.h"

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
    std::fprintf(stderr, "v4oracle: error: %s\n", e.what());
    return v4::cli::kExitBadInput;
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "v4oracle: error: %s\n", e.what());
    return v4::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "v4oracle: internal error: %s\n", e.what());
    return 3;
  }
  return v4::cli::kExitOk;
}
