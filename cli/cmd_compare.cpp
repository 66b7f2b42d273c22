// `v4oracle compare GOLDEN CANDIDATE [--policy B] [--policy-file F] [--json F] [--html F] [--text F]
// [--quiet] [--strict] [--require-all] [--map F] [--candidate-cast bf16] [--mismatches-csv F]
// [--verify-hash] [--chunk-mib N]`: diff a candidate against a golden in model order (docs/compare.md).
// Exit 0 all within policy, 1 divergence, 2 bad usage or bad input (output paths are checked before
// comparing), 4 a report could not be written; report files are written only once the comparison
// finished, all or none, each atomically ("-": stdout).
#include <cstdio>

#include "cli/commands.h"
#include "compare/compare.h"
#include "compare/report.h"
#include "golden/output_file.h"
#include "golden/untrusted.h"

namespace v4::cli {

namespace {
struct CompareArgs {
  std::string golden, candidate, policy = "bitwise", policy_file, json, html, text;
  std::string map_file, candidate_cast, mismatches_csv;
  bool quiet = false, verify_hash = false, strict = false, require_all = false;
  int64_t chunk_mib = 64;
};
}  // namespace

void register_compare(CLI::App& app) {
  auto a = std::make_shared<CompareArgs>();
  CLI::App* sub = app.add_subcommand("compare", "Compare a candidate HDF5 file against a golden, tensor by tensor in model order");
  sub->add_option("golden", a->golden, "golden HDF5 file (the reference)")->required();
  sub->add_option("candidate", a->candidate, "candidate HDF5 file")->required();
  sub->add_option("--policy", a->policy, "default budget: bitwise, ulp:N, nmse:X, close:ATOL,RTOL[,RATE], ties, ignore");
  sub->add_option("--policy-file", a->policy_file, "rules `<glob> <budget> [reason]`, first match wins");
  sub->add_option("--json", a->json, "write the JSON report here (- for stdout)");
  sub->add_option("--html", a->html, "write the self-contained HTML report here (- for stdout)");
  sub->add_option("--mismatches-csv", a->mismatches_csv,
                  "write every differing element (coordinates, bits, values, distance, errors) as CSV here (- for stdout)");
  sub->add_option("--text", a->text, "write the text report here (- for stdout; it is printed to stdout as well)");
  sub->add_flag("-q,--quiet", a->quiet, "print only the one-line summary");
  sub->add_flag("--strict", a->strict, "a policy rule that matches no dataset is an error (exit 2), not a warning");
  sub->add_flag("--require-all", a->require_all,
                "every golden dataset must be in the candidate (default: compare those it holds, list the rest)");
  sub->add_option("--map", a->map_file, "file of `<candidate path> <golden path>` lines: compare under other names");
  sub->add_option("--candidate-cast", a->candidate_cast,
                  "bf16: round float32 candidate datasets to bf16 (RNE) where the golden is bf16")
      ->check(CLI::IsMember({"bf16"}));
  sub->add_flag("--verify-hash", a->verify_hash, "recompute every dataset's sha256 first (reads both files twice)");
  sub->add_option("--chunk-mib", a->chunk_mib, "read size per file per step, MiB (memory is about twice this)")
      ->check(CLI::Range(int64_t(1), int64_t(4096)));
  add_help_footer(sub, "v4oracle compare golden.h5 cand.h5 --policy-file policy.txt --strict --json report.json --html report.html",
                  "0 every compared tensor within policy; 1 divergence (the first tensor over its budget in\n"
                  "model order is named); 2 bad usage or bad input (one line naming file and dataset); 3 internal error\n"
                  "(a bug); 4 a report could not be written (disk full, I/O error).");
  sub->callback([a] {
    // Outputs are checked before anything is computed: a directory, a missing directory, an input's own
    // path or one path given twice is exit 2 at once.
    std::vector<golden::OutputTarget> targets;
    for (const std::string* p : {&a->json, &a->html, &a->text, &a->mismatches_csv})
      if (!p->empty()) targets.push_back(golden::check_output(*p));
    golden::check_outputs_distinct(targets, {a->golden, a->candidate, a->policy_file});
    bool report_on_stdout = false;
    for (const golden::OutputTarget& t : targets) report_on_stdout |= t.kind == golden::OutputKind::stdout_;
    compare::CompareOptions opt;
    opt.policy = compare::Policy(compare::budget_parse(a->policy), a->policy == "bitwise" ? "default: bit-exact" : "--policy");
    if (!a->policy_file.empty()) opt.policy.load_file(a->policy_file);
    opt.chunk_bytes = a->chunk_mib << 20;
    opt.verify_hash = a->verify_hash;
    opt.strict = a->strict;
    opt.require_all = a->require_all;
    if (!a->map_file.empty()) opt.name_map = compare::load_name_map(a->map_file), opt.name_map_file = a->map_file;
    if (a->candidate_cast == "bf16") opt.candidate_cast = Fmt::bf16;
    golden::inspect_untrusted_files({a->golden, a->candidate});  // both at once (golden/untrusted.h)
    const compare::CompareResult r = compare::compare_files(a->golden, a->candidate, opt);
    for (const std::string& w : r.warnings) std::fprintf(stderr, "v4oracle: warning: %s\n", w.c_str());
    // Every report is rendered before any is written, then they land all or none.
    const std::string text = compare::report_text(r);
    std::vector<std::pair<golden::OutputTarget, std::string>> reports;
    size_t k = 0;
    if (!a->json.empty()) reports.emplace_back(targets[k++], compare::report_json(r));
    if (!a->html.empty()) reports.emplace_back(targets[k++], compare::report_html(r));
    if (!a->text.empty()) reports.emplace_back(targets[k++], text);
    if (!a->mismatches_csv.empty()) reports.emplace_back(targets[k++], compare::mismatches_csv(r, opt));
    compare::report_write_all(reports);
    // A report on stdout ("-") keeps stdout to itself: the usual text or summary line goes to stderr.
    std::FILE* human = report_on_stdout ? stderr : stdout;
    if (a->quiet)
      std::fprintf(human, "%s\n", compare::report_summary_line(r).c_str());
    else
      std::fputs(text.c_str(), human);
    std::fflush(human);
    if (!r.pass()) throw ExitStatus{kExitDivergence};
  });
}

}  // namespace v4::cli
