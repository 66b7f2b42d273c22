// `v4oracle op <name> (--inputs in.h5 | --seed S [--shape k=v ...]) [--recipe R] -o out.h5`: run one
// component. The output file holds the inputs it consumed and the outputs, so it replays with --inputs.
#include <cstdio>

#include "cli/commands.h"
#include "golden/ops.h"
#include "golden/output_file.h"

namespace v4::cli {

namespace {
struct OpArgs {
  std::string name, inputs, recipe = "canonical", out;
  uint64_t seed = 0;
  int64_t steps = 0;
  std::vector<std::string> shape;
};

}  // namespace

golden::ShapeParams parse_shape(const std::vector<std::string>& kvs, const std::string& command) {
  golden::ShapeParams p;
  for (const std::string& kv : kvs) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument(command + ": --shape expects k=v, got '" + kv + "'");
    try {
      size_t used = 0;
      const long long v = std::stoll(kv.substr(eq + 1), &used);
      if (used != kv.size() - eq - 1) throw std::invalid_argument(kv);
      p[kv.substr(0, eq)] = v;
    } catch (const std::exception&) {
      throw std::invalid_argument(command + ": --shape value in '" + kv + "' is not an integer");
    }
  }
  return p;
}

void register_op(CLI::App& app) {
  auto args = std::make_shared<OpArgs>();
  CLI::App* sub = app.add_subcommand("op", "Run one component on replayed or seeded inputs");
  sub->add_option("name", args->name, "component (see `v4oracle list`)")->required();
  CLI::Option* inputs = sub->add_option("--inputs", args->inputs, "replay the inputs of this HDF5 file");
  CLI::Option* seed = sub->add_option("--seed", args->seed, "generate inputs from this seed");
  sub->add_option("--shape", args->shape, "shape parameters for --seed, e.g. M=64 N=128 K=256");
  CLI::Option* steps = sub->add_option("--steps", args->steps, "optimizer ops: run N steps (same as --shape steps=N)");
  sub->add_option("--recipe", args->recipe, "GEMM recipe")->check(CLI::IsMember({"canonical", "hopper", "exact"}));
  sub->add_option("-o,--output", args->out, "output HDF5 file (- for stdout)")->required();
  inputs->excludes(seed);
  steps->excludes(inputs);  // a replay takes its steps from its file's inputs
  add_help_footer(sub, "v4oracle op fp8_gemm --seed 1 --shape M=64 N=2048 K=4096 --recipe hopper -o gemm.h5");
  sub->callback([args, inputs, seed, steps, sub] {
    const golden::OpSpec* op = golden::op_find(args->name);
    if (!op) throw std::invalid_argument("op: unknown component '" + args->name + "' (see `v4oracle list`)");
    if (!*inputs && !*seed) throw std::invalid_argument("op: give --inputs FILE or --seed S");
    if (*inputs && !args->shape.empty()) throw std::invalid_argument("op: --shape only applies with --seed");
    if (*steps) {
      args->shape.push_back("steps=" + std::to_string(args->steps));
    }
    const bool recipe_given = sub->count("--recipe") > 0;
    if (recipe_given && !op->has_recipe)
      throw std::invalid_argument("op: " + op->name + " has one definition and takes no --recipe");
    const Recipe r = *recipe_parse(args->recipe);
    // The output is checked before computing: a directory or the input file itself is exit 2 at once.
    const golden::OutputTarget target = golden::check_output(args->out);
    golden::check_outputs_distinct({target}, {*inputs ? args->inputs : std::string()});
    const auto outputs = golden::op_run_to_file(*op, *inputs ? std::optional<std::string>(args->inputs) : std::nullopt,
                                                args->seed, parse_shape(args->shape, "op"), r, args->out);
    // With -o - the HDF5 file is stdout, so the summary line goes to stderr.
    std::FILE* f = target.kind == golden::OutputKind::stdout_ ? stderr : stdout;
    std::fprintf(f, "%s", op->name.c_str());
    if (op->has_recipe) std::fprintf(f, " [%s]", recipe_name(r));
    std::fprintf(f, " ->");
    for (const auto& nt : outputs) {
      std::fprintf(f, " %s %s[", nt.name.c_str(), fmt_name(nt.t.fmt));
      for (size_t i = 0; i < nt.t.shape.size(); ++i) std::fprintf(f, "%s%lld", i ? "," : "", (long long)nt.t.shape[i]);
      std::fprintf(f, "]");
    }
    std::fprintf(f, " -> %s\n", args->out.c_str());
  });
}

}  // namespace v4::cli
