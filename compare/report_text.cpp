// The text reports: the one summary line (every report carries it), and the text report (run labels,
// per-layer table with the runs side by side, failing tensors, the first divergence of each run in
// detail). See report.h.
#include <algorithm>
#include <map>

#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::compare {

namespace {

std::string elements_text(int64_t n) {
  if (n >= 10000000) return fmtf("%.1f M", double(n) / 1e6);
  return std::to_string(n);
}

// Non-empty buckets of the distance histogram: "0: 5, 1: 2, [2,4): 1".
std::string hist_text(const TensorStats& s) {
  std::string out;
  for (int b = 0; b < kUlpBuckets; ++b) {
    if (!s.steps_hist[size_t(b)]) continue;
    char buf[96];
    if (b <= 1)
      std::snprintf(buf, sizeof buf, "%s%d: %lld", out.empty() ? "" : ", ", b, (long long)s.steps_hist[size_t(b)]);
    else if (b < 64)
      std::snprintf(buf, sizeof buf, "%s[%llu,%llu): %lld", out.empty() ? "" : ", ", 1ull << (b - 1), 1ull << b,
                    (long long)s.steps_hist[size_t(b)]);
    else
      std::snprintf(buf, sizeof buf, "%s[2^63,2^64): %lld", out.empty() ? "" : ", ", (long long)s.steps_hist[size_t(b)]);
    out += buf;
  }
  return out.empty() ? "(none)" : out;
}

// "outputs: 36 elements in 1 tensor, 91.6667% bit-equal" (the role's tally; elements under `ignore`
// are not read and not counted).
std::string role_text(const CompareResult& r, const std::string& role) {
  const RoleTally t = role_tally(r, role);
  return role + "s: " + elements_text(t.elements) + (t.elements == 1 ? " element in " : " elements in ") +
         plural(t.tensors, "tensor") + ", " + bit_equal_pct(t.bit_equal, t.elements) + " bit-equal";
}

}  // namespace

std::string meta_text(const std::string& path, const golden::FileMeta& m) {
  std::string s = path + " (" + (m.kind.empty() ? "unknown kind" : m.kind);
  if (!m.name.empty()) s += " " + m.name;
  if (m.seed) s += ", seed " + std::to_string(*m.seed);
  if (m.recipe) s += ", recipe " + *m.recipe;
  if (!m.generator_version.empty()) s += ", generator " + m.generator_version + " " + m.generator_commit;
  return s + ")";
}

void tensor_detail(std::string& o, const TensorResult& t) {
  const TensorStats& s = t.stats;
  o += "  " + std::string(fmt_name(t.fmt)) + " " + shape_str(t.shape) + ", budget " + t.rule.budget.text() +
       " (" + t.rule.reason + ")\n";
  o += "  " + t.why + "\n";
  if (!t.first_text.empty()) o += "  first mismatch " + t.first_text + "\n";
  if (!t.worst_text.empty()) o += "  worst mismatch " + t.worst_text + "\n";
  if (!t.terms_text.empty()) o += "  dot-product terms: " + t.terms_text + "\n";
  if (t.top_text.size() > 1) {
    o += "  worst " + plural(int64_t(t.top_text.size()), "element") + " (largest distance first):\n";
    for (const std::string& e : t.top_text) o += "    " + e + "\n";
  }
  o += "  bit-equal " + std::to_string(s.bit_equal) + " of " + std::to_string(s.n) + "; NaN golden " + std::to_string(s.nan_a) +
       " candidate " + std::to_string(s.nan_b) + " (both " + std::to_string(s.nan_both) + ", payloads differ " +
       std::to_string(s.nan_bits_differ) + "); inf golden " + std::to_string(s.inf_a) + " candidate " + std::to_string(s.inf_b) +
       "; NaN/inf class mismatches " + std::to_string(s.nonfinite_mismatch) + "\n";
  o += "  max " + std::to_string(s.max_steps) + " " + steps_unit(t.fmt) + "; max abs err " + num(s.max_abs) + ", max rel err " +
       num(s.max_rel) + ", NMSE " + num(s.nmse()) + ", calc_diff " + num(s.calc_diff()) + "\n";
  o += "  abs err mean " + num(s.mean_abs_err()) + " median " + num(s.median_abs) + " p99 " + num(s.p99_abs) +
       "; rel err mean " + num(s.mean_rel_err()) + " median " + num(s.median_rel) + " p99 " + num(s.p99_rel) +
       "; cosine similarity " + num(s.cosine()) + "\n";
  o += "  distance histogram: " + hist_text(s) + "\n";
  if (t.quant) {
    const QuantStats& q = *t.quant;
    o += "  quantized: " + plural(q.flips, "code flip");
    if (q.flips) {
      o += " (on a rounding tie " + std::to_string(q.flips_on_tie) + ", not a tie " + std::to_string(q.flips_not_tie) +
           ", tie unknown " + std::to_string(q.flips_tie_unknown) + (q.source.empty() ? ": no source values in the golden" : "") +
           ")";
    }
    if (!q.scale.empty())
      o += "; scale " + q.scale + ": " +
           (q.scale_mismatch < 0 ? std::string("not compared")
                                 : plural(q.scale_mismatch, "scale mismatch", "scale mismatches") + " (max " +
                                       plural(int64_t(q.scale_max_steps), "step") + ")");
    o += "\n";
  }
  if (t.index) {
    const IndexStats& x = *t.index;
    o += "  top-k indices (scores " + x.scores + "): " + std::to_string(x.rows_differ) + " of " + plural(x.rows, "row") + " " +
         verb_s(x.rows_differ, "differ", "differs") + ": " + plural(x.rows_tie_flip, "tie flip") + " (equal scores), " +
         plural(x.rows_real, "real mismatch", "real mismatches") + "; set differences " + std::to_string(x.set_diff) + ", order differences " +
         std::to_string(x.order_diff) + "\n";
    if (x.first_real_row >= 0) o += "  first real mismatch: " + x.first_real_detail + "\n";
    if (x.first_tie_row >= 0) o += "  first tie flip: " + x.first_tie_detail + "\n";
  }
}

std::string report_summary_line(const CompareResult& r) {
  const int64_t v = r.verdict();
  int64_t n = 0, failed = 0;
  for (const TensorResult& t : r.tensors) n += 1, failed += !t.pass;
  std::string s = "v4oracle compare: ";
  if (v < 0) {
    s += "OK: " + plural(n, "tensor") + " within policy (" + role_text(r, kRoleOutput);
    if (role_tally(r, kRoleInput).tensors) s += "; " + role_text(r, kRoleInput);
    return s + ")";
  }
  const TensorResult& t = r.tensors[size_t(v)];
  s += "DIVERGED at " + with_run(t);
  const std::string& first = t.first_text;
  if (!first.empty()) s += ' ' + first.substr(0, first.find(':'));
  s += ": " + t.why + " [" + t.rule.reason + "]; " + std::to_string(failed) + " of " + plural(n, "tensor") + " over policy";
  return s;
}

std::string report_text(const CompareResult& r) {
  std::string o;
  o += "v4oracle compare\n";
  o += "  golden:    " + meta_text(r.golden_path, r.golden_meta) + "\n";
  o += "  candidate: " + meta_text(r.candidate_path, r.candidate_meta) + "\n";
  o += "  runs:      ";
  for (size_t i = 0; i < r.runs.size(); ++i) o += (i ? ", " : "") + run_label(r.runs[i]);
  o += "\n";
  if (!r.candidate_extra.empty())
    o += "  note:      the candidate has " + plural(int64_t(r.candidate_extra.size()), "dataset") +
         " the golden lacks (ignored), first " + r.candidate_extra.front() + "\n";
  if (!r.not_in_candidate.empty()) {
    o += "  not in candidate: " + plural(int64_t(r.not_in_candidate.size()), "golden dataset") + ", not compared (--require-all makes this an error): ";
    for (size_t i = 0; i < r.not_in_candidate.size() && i < 8; ++i) o += (i ? ", " : "") + r.not_in_candidate[i];
    if (r.not_in_candidate.size() > 8) o += ", ...";
    o += "\n";
  }
  int64_t cast = 0;
  for (const TensorResult& t : r.tensors) cast += t.cast;
  if (cast)
    o += "  cast:      " + plural(cast, "candidate float32 dataset") + " rounded to bf16 before comparing (--candidate-cast bf16)\n";
  for (const std::string& w : r.warnings) o += "  warning:   " + w + "\n";
  o += "  compared:  " + role_text(r, kRoleOutput);
  if (role_tally(r, kRoleInput).tensors) o += "; " + role_text(r, kRoleInput) + " (copied into the candidate)";
  o += "\n\n";
  // Per-layer table; with two runs, local and accumulated side by side.
  std::vector<std::string> order;
  std::map<std::pair<std::string, std::string>, const LayerSummary*> by;
  for (const LayerSummary& l : r.layers) {
    if (std::find(order.begin(), order.end(), l.layer) == order.end()) order.push_back(l.layer);
    by[{l.run, l.layer}] = &l;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-10s", "layer");
  o += line;
  for (size_t i = 0; i < r.runs.size(); ++i) {
    std::snprintf(line, sizeof line, " | %-7s %-9s %-6s %-10s %-12s", "tensors", "bit-equal", "failed", "max steps", "max NMSE");
    o += line;
  }
  o += "\n";
  if (r.runs.size() > 1) {
    std::snprintf(line, sizeof line, "%-10s", "");
    o += line;
    for (const std::string& run : r.runs) {
      std::snprintf(line, sizeof line, " | %-49s", run_label(run).c_str());
      o += line;
    }
    o += "\n";
  }
  for (const std::string& layer : order) {
    std::snprintf(line, sizeof line, "%-10s", layer.c_str());
    o += line;
    for (const std::string& run : r.runs) {
      const auto it = by.find({run, layer});
      if (it == by.end()) {
        std::snprintf(line, sizeof line, " | %-49s", "-");
      } else {
        const LayerSummary& l = *it->second;
        std::snprintf(line, sizeof line, " | %-7lld %-9lld %-6lld %-10llu %-12s", (long long)l.tensors,
                      (long long)l.tensors_bit_equal, (long long)l.tensors_failed, (unsigned long long)l.max_steps,
                      num(l.max_nmse).c_str());
      }
      o += line;
    }
    o += "\n";
  }
  // Tensors within policy whose bits differ: per tensor, so a tolerance never hides as "bit-equal".
  int64_t loose = 0;
  for (const TensorResult& t : r.tensors) loose += t.pass && t.stats.bit_equal < t.stats.n;
  if (loose) {
    o += "\nWithin policy but not bit-equal (" + std::to_string(loose) + "):\n";
    int shown = 0;
    for (const TensorResult& t : r.tensors) {
      if (!t.pass || t.stats.bit_equal == t.stats.n) continue;
      if (++shown > 30) {
        o += "  ... " + std::to_string(loose - 30) + " more (see --json)\n";
        break;
      }
      o += "  " + with_run(t) + " (" + t.role + "): " + std::to_string(t.stats.n - t.stats.bit_equal) + " of " +
           plural(t.stats.n, "element") + " " + verb_s(t.stats.n - t.stats.bit_equal, "differ", "differs") + ", " + bit_equal_pct(t.stats.bit_equal, t.stats.n) +
           " bit-equal, max " + std::to_string(t.stats.max_steps) + " " + steps_unit(t.fmt) + " [" +
           t.rule.budget.text() + ": " + t.rule.reason + "]\n";
    }
  }
  // Failing tensors.
  int64_t failed = 0;
  for (const TensorResult& t : r.tensors) failed += !t.pass;
  if (failed) {
    o += "\nTensors over policy (" + std::to_string(failed) + "), in model order:\n";
    int shown = 0;
    for (const TensorResult& t : r.tensors) {
      if (t.pass) continue;
      if (++shown > 30) {
        o += "  ... " + std::to_string(failed - 30) + " more (see --json)\n";
        break;
      }
      o += "  " + with_run(t) + ": " + t.why + " [" + t.rule.reason + "]\n";
    }
    for (const std::string& run : r.runs) {
      const int64_t f = r.first_failure(run);
      if (f < 0) continue;
      o += "\nFIRST DIVERGENCE" + (run.empty() ? std::string() : " of the " + run_label(run) + " run") +
           " in model order: " + with_run(r.tensors[size_t(f)]) + "\n";
      tensor_detail(o, r.tensors[size_t(f)]);
    }
  }
  o += "\n" + report_summary_line(r) + "\n";
  return o;
}

}  // namespace v4::compare
