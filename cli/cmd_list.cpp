// `v4oracle list`: components (the op registry), recipes and formats.
#include <cstdio>

#include "cli/commands.h"
#include "golden/ops.h"

namespace v4::cli {

void register_list(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("list", "List components, recipes and formats");
  add_help_footer(sub, "v4oracle list", "0 done; 3 internal error (a bug).");
  sub->callback([] {
    std::printf("components (v4oracle op <name>):\n");
    for (const golden::OpSpec& op : golden::op_registry())
      std::printf("  %-15s %s%s\n", op.name.c_str(), op.summary.c_str(), op.has_recipe ? "  [--recipe]" : "");
    std::printf("\nrecipes (--recipe, GEMMs):\n");
    std::printf("  %-15s exact K-block partials (integer), ascending block promotion; bf16/f32: sequential fp32 fma (default)\n",
                recipe_name(Recipe::canonical));
    std::printf("  %-15s Hopper FP8 wgmma model: 13-bit truncating k32 instructions, promotion every 128 K\n",
                recipe_name(Recipe::hopper));
    std::printf("  %-15s every dot product exact, rounded once\n", recipe_name(Recipe::exact));
    std::printf("\nformats (cast --to, dataset 'format' attribute):\n");
    for (Fmt f : kAllFmts)
      std::printf("  %-8s stored as %s\n", fmt_name(f), fmt_storage_name(f));
  });
}

}  // namespace v4::cli
