// The subcommands of the single v4oracle binary. Each cli/cmd_<name>.cpp defines one register
// function; kCommands in cli/commands.cpp is the one list main() walks.
#pragma once
#include <CLI/CLI.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "golden/ops.h"

namespace v4::cli {

using RegisterFn = void (*)(CLI::App& app);

void register_list(CLI::App& app);
void register_cast(CLI::App& app);
void register_op(CLI::App& app);
void register_demo(CLI::App& app);
void register_compare(CLI::App& app);
void register_gpu_check(CLI::App& app);

std::span<const RegisterFn> commands();

// `--shape k=v ...` of `op` and `gpu-check`; std::invalid_argument naming `command` on a malformed pair.
golden::ShapeParams parse_shape(const std::vector<std::string>& kvs, const std::string& command);

// Exit statuses (design.md §6).
inline constexpr int kExitOk = 0;
inline constexpr int kExitDivergence = 1;
inline constexpr int kExitBadInput = 2;
// 3: internal error (a bug). 4: an output could not be written (disk full, I/O error, quota).
inline constexpr int kExitOutput = 4;

// What most commands end with: the statuses above in words, for add_help_footer.
inline constexpr std::string_view kExitStatusCommon =
    "0 done; 2 bad usage or bad input (one line naming the file, dataset and problem); 3 internal error\n"
    "(a bug); 4 an output could not be written (disk full, I/O error; nothing is left half-written).";

// The --help of every subcommand, in one place: call it last in register_<name>, after the options, as
//   add_help_footer(sub, "v4oracle gpu-check --op fp8_gemm --seed 1");            // common statuses
//   add_help_footer(sub, "v4oracle compare g.h5 c.h5", "0 ...; 1 divergence; ...");  // its own
// It makes --help show every option's default value (the value the option holds now, so set defaults
// in the args struct before registering; none for flags, positionals, lists, empty values and options
// that exclude another, such as op's --seed/--inputs) and appends "Exit status: ...", "Example: ..." and
// "Details: <details>". tests/test_cli.cpp checks every command's --help carries both.
void add_help_footer(CLI::App* cmd, std::string_view example, std::string_view exit_status = kExitStatusCommon,
                     std::string_view details = "docs/cli.md");

// Thrown by a subcommand to end the process with a status that is not an error (e.g. compare's 1 for
// "divergence found"); main() returns `code` after the command's own output.
struct ExitStatus {
  int code;
};

}  // namespace v4::cli
