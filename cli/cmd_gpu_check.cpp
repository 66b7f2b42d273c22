// `v4oracle gpu-check --op NAME [--candidate SPEC] [--inputs FILE | --seed S --shape k=v...] [--recipe R]
// [--probe none|batch|determinism|all] [--batch-sizes LIST] [--repeats N] [--policy B] [--policy-file F]
// [--json F] [--html F] [--text F] [--out-dir DIR] [-q]`: runs a candidate kernel on the golden's inputs,
// diffs its outputs, probes batch invariance and determinism, and names the recipe a differing GEMM
// follows (docs/gpu-check.md). Exit statuses as `compare`: 0 bit-equal, invariant and deterministic;
// 1 any of them broken; 2 bad usage or input (unknown op, a candidate that cannot compute it, a plug-in
// that will not load, a GPU candidate in a build without CUDA); 4 a report could not be written.
#include <cstdio>

#include "cli/commands.h"
#include "compare/harness/gpu_check.h"
#include "compare/harness/gpu_check_report.h"
#include "compare/report.h"
#include "golden/output_file.h"

namespace v4::cli {

namespace {
struct GpuCheckArgs {
  std::string op, candidate = "builtin", inputs, recipe = "canonical", probe = "all", batch_sizes, policy = "bitwise";
  std::string policy_file, json, html, text, out_dir;
  uint64_t seed = 0;
  int repeats = harness::kDefaultRepeats;
  std::vector<std::string> shape;
  bool quiet = false;
};

std::vector<int64_t> parse_batch_sizes(const std::string& list) {
  std::vector<int64_t> v;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = std::min(list.find(',', pos), list.size());
    const std::string item = list.substr(pos, comma - pos);
    size_t used = 0;
    long long n = -1;
    try {
      n = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    if (item.empty() || used != item.size() || n < 1 || n > (1 << 20))
      throw std::invalid_argument("gpu-check: --batch-sizes wants positive integers up to 1048576 separated by commas, got '" + item + "'");
    v.push_back(n);
    pos = comma + 1;
  }
  return v;
}

std::string default_sizes() {
  std::string s;
  for (int64_t b : harness::kDefaultBatchSizes) s += (s.empty() ? "" : ",") + std::to_string(b);
  return s;
}
}  // namespace

void register_gpu_check(CLI::App& app) {
  auto a = std::make_shared<GpuCheckArgs>();
  CLI::App* sub = app.add_subcommand("gpu-check", "Check a kernel against the golden: bitwise diff, batch invariance, determinism, recipe forensics");
  sub->add_option("--op", a->op, "op of `v4oracle list` (batch probe: GEMMs, quantizers, casts, pointwise math)")->required();
  std::string kinds;
  for (const auto& [prefix, help] : harness::candidate_kinds()) kinds += "\n  " + help;
  sub->add_option("--candidate", a->candidate, "builtin | cublaslt (CUDA builds) | plugin:LIB.so | cpu[:RECIPE]" + kinds)->capture_default_str();
  CLI::Option* inputs = sub->add_option("--inputs", a->inputs, "replay the inputs of this HDF5 file");
  CLI::Option* seed = sub->add_option("--seed", a->seed, "generate inputs from this seed")->capture_default_str();
  sub->add_option("--shape", a->shape, "shape parameters for --seed, e.g. M=64 N=128 K=256");
  inputs->excludes(seed);
  sub->add_option("--recipe", a->recipe, "the golden's GEMM recipe")->check(CLI::IsMember({"canonical", "hopper", "exact"}))->capture_default_str();
  sub->add_option("--probe", a->probe, "probes after the diff")->check(CLI::IsMember({"none", "batch", "determinism", "all"}))->capture_default_str();
  sub->add_option("--batch-sizes", a->batch_sizes, "comma-separated batch sizes of the batch probe (default " + default_sizes() + ")");
  sub->add_option("--repeats", a->repeats, "launches of the determinism probe on stream 0")->check(CLI::Range(1, 1000))->capture_default_str();
  sub->add_option("--policy", a->policy, "budget of the output diff, as `compare --policy`")->capture_default_str();
  sub->add_option("--policy-file", a->policy_file, "rules `<glob> <budget> [reason]`, as `compare --policy-file`");
  sub->add_option("--json", a->json, "write the JSON report here (- for stdout)");
  sub->add_option("--html", a->html, "write the self-contained HTML report here (- for stdout)");
  sub->add_option("--text", a->text, "write the text report here (- for stdout; it is printed to stdout as well)");
  sub->add_option("--out-dir", a->out_dir, "keep golden.h5 and candidate.h5 in this directory");
  sub->add_flag("-q,--quiet", a->quiet, "print only the one-line summary");
  add_help_footer(sub, "v4oracle gpu-check --op bf16_gemm --candidate plugin:./libsplitk_gemm_cpu.so --html report.html",
                  "0 outputs bit-equal (within --policy), batch-invariant and deterministic; 1 any of these\n"
                  "broken (the report names the first output, batch size and position, or launch); 2 bad usage or input\n"
                  "(unknown op, a candidate that does not compute it, a plug-in that does not load, builtin/cublaslt in a\n"
                  "build without -DV4ORACLE_CUDA=ON); 3 internal error (a bug); 4 a report could not be written.",
                  "docs/gpu-check.md");
  sub->callback([a, inputs, sub] {
    if (*inputs && !a->shape.empty()) throw std::invalid_argument("gpu-check: --shape only applies with --seed");
    harness::GpuCheckOptions opt;
    opt.op = a->op;
    const golden::OpSpec* op = golden::op_find(a->op);
    if (!op) throw std::invalid_argument("gpu-check: unknown op '" + a->op + "' (see `v4oracle list`)");
    if (sub->count("--recipe") && !op->has_recipe)
      throw std::invalid_argument("gpu-check: " + op->name + " has one definition and takes no --recipe");
    opt.candidate = a->candidate;
    if (*inputs) opt.inputs_path = a->inputs;
    opt.seed = a->seed;
    opt.shape = parse_shape(a->shape, "gpu-check");
    opt.recipe = *recipe_parse(a->recipe);
    opt.probe_batch = a->probe == "batch" || a->probe == "all";
    opt.probe_determinism = a->probe == "determinism" || a->probe == "all";
    if (!a->batch_sizes.empty()) opt.batch_sizes = parse_batch_sizes(a->batch_sizes);
    opt.repeats = a->repeats;
    opt.out_dir = a->out_dir;
    opt.compare.policy = compare::Policy(compare::budget_parse(a->policy), a->policy == "bitwise" ? "default: bit-exact" : "--policy");
    if (!a->policy_file.empty()) opt.compare.policy.load_file(a->policy_file);
    // Outputs are checked before anything is computed.
    std::vector<golden::OutputTarget> targets;
    for (const std::string* p : {&a->json, &a->html, &a->text})
      if (!p->empty()) targets.push_back(golden::check_output(*p));
    golden::check_outputs_distinct(targets, {a->inputs, a->policy_file});
    bool report_on_stdout = false;
    for (const golden::OutputTarget& t : targets) report_on_stdout |= t.kind == golden::OutputKind::stdout_;

    const harness::GpuCheckResult r = harness::gpu_check(opt);
    for (const std::string& w : r.diff.warnings) std::fprintf(stderr, "v4oracle: warning: %s\n", w.c_str());
    const std::string text = harness::gpu_check_text(r);
    std::vector<std::pair<golden::OutputTarget, std::string>> reports;
    size_t k = 0;
    if (!a->json.empty()) reports.emplace_back(targets[k++], harness::gpu_check_json(r));
    if (!a->html.empty()) reports.emplace_back(targets[k++], harness::gpu_check_html(r));
    if (!a->text.empty()) reports.emplace_back(targets[k++], text);
    compare::report_write_all(reports);
    std::FILE* human = report_on_stdout ? stderr : stdout;
    std::fputs(a->quiet ? (harness::gpu_check_summary_line(r) + "\n").c_str() : text.c_str(), human);
    std::fflush(human);
    if (!r.pass()) throw ExitStatus{kExitDivergence};
  });
}

}  // namespace v4::cli
