// The numeric recipes (design.md §3): which algorithm every dot product and reduction uses. One list,
// used by the GEMMs, the op registry, the CLI and the simulator. docs/gemm.md defines each.
#pragma once
#include <array>
#include <optional>
#include <string_view>

namespace v4 {

enum class Recipe { canonical, hopper, exact };
inline constexpr std::array<Recipe, 3> kAllRecipes = {Recipe::canonical, Recipe::hopper, Recipe::exact};

constexpr const char* recipe_name(Recipe r) {
  switch (r) {
    case Recipe::canonical: return "canonical";
    case Recipe::hopper: return "hopper";
    case Recipe::exact: return "exact";
  }
  return "?";
}
constexpr std::optional<Recipe> recipe_parse(std::string_view name) {
  for (Recipe r : kAllRecipes)
    if (name == recipe_name(r)) return r;
  return std::nullopt;
}

}  // namespace v4
