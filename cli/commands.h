// The subcommands of the single v4oracle binary. Each cli/cmd_<name>.cpp defines one register
// function; kCommands in cli/commands.cpp is the one list main() walks.
#pragma once
#include <CLI/CLI.hpp>
#include <span>
#include <string>
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

// Thrown by a subcommand to end the process with a status that is not an error (e.g. compare's 1 for
// "divergence found"); main() returns `code` after the command's own output.
struct ExitStatus {
  int code;
};

}  // namespace v4::cli
