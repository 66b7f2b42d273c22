// The one list of subcommands (see commands.h). Adding a command is one line here; add_help_footer.
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

void add_help_footer(CLI::App* cmd, std::string_view example, std::string_view exit_status, std::string_view details) {
  // No default shown for flags ("false"), positionals, lists, alternatives (an option that excludes
  // another has no value until given) and empty values.
  for (CLI::Option* o : cmd->get_options()) {
    if (o->get_expected_min() == 0 || o->get_positional() || o->get_expected_max() > 1 || !o->get_excludes().empty()) continue;
    o->capture_default_str();
    if (o->get_default_str().empty() || o->get_default_str() == "[]") o->default_str("");
  }
  cmd->footer("Exit status: " + std::string(exit_status) + "\nExample: " + std::string(example) + "\nDetails: " + std::string(details));
}

}  // namespace v4::cli
