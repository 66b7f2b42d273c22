// The one list of subcommands (see commands.h). Adding a command is one line here.
#include "cli/commands.h"

namespace v4::cli {

namespace {
constexpr RegisterFn kCommands[] = {
    register_list,
    register_cast,
    register_op,
    register_demo,
    register_compare,
    register_gpu_check,
};
}  // namespace

std::span<const RegisterFn> commands() { return kCommands; }

}  // namespace v4::cli
