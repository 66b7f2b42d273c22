// gpu-check's JSON and HTML reports (gpu_check_report.h). JSON: numbers as numbers, null for absent; the
// comparator's own JSON report is embedded as "comparison". HTML: one self-contained page (inline CSS, no
// scripts) with the batch-size x position matrix coloured equal / different.
#include "compare/harness/gpu_check_report.h"

#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::harness {

using compare::esc;
using compare::jjoin;
using compare::jstr;

namespace {

std::string jopt(const std::string& s) { return s.empty() ? "null" : jstr(s); }
std::string jbool(bool b) { return b ? "true" : "false"; }
// A JSON array of the items, each written by f.
template <class Range, class F>
std::string jarray(const Range& items, F&& f) {
  std::string o = "[";
  o += jjoin(items, f);
  return o += "]";
}
std::string jstrs(const std::vector<std::string>& v) { return jarray(v, jstr); }
std::string jints(const std::vector<int64_t>& v) {
  return jarray(v, [](int64_t x) { return std::to_string(x); });
}

std::string jvariant(const GemmVariant& v, const std::string& op, int64_t K) {
  static const char* acc[] = {"fma_chain", "hopper_chain", "exact_f32", "exact_direct"};
  static const char* red[] = {"in_order", "reversed", "tree"};
  return "{\"splits\":" + std::to_string(v.splits) + ",\"split_granule\":" + std::to_string(variant_granule(op, v)) + ",\"reduce\":" + jstr(red[int(v.reduce)]) + ",\"acc\":" + jstr(acc[int(v.acc)]) +
         ",\"promote_every\":" + (op == "fp8_gemm" ? std::to_string(v.promote_every) : "null") +
         ",\"promote_fma\":" + (op == "fp8_gemm" ? jbool(v.promote_fma) : "null") + ",\"text\":" + jstr(v.text(op, K)) + "}";
}

std::string jforensics(const std::optional<ForensicsResult>& f) {
  if (!f) return "null";
  return "{\"op\":" + jstr(f->op) + ",\"M\":" + std::to_string(f->M) + ",\"N\":" + std::to_string(f->N) + ",\"K\":" + std::to_string(f->K) +
         ",\"tried\":" + std::to_string(f->tried) + ",\"elements\":" + std::to_string(f->elements) +
         ",\"match\":" + (f->match ? jvariant(*f->match, f->op, f->K) : "null") + ",\"best\":" + jvariant(f->best, f->op, f->K) +
         ",\"best_equal\":" + std::to_string(f->best_equal) + ",\"text\":" + jstr(f->text()) + "}";
}

std::string jcell(const BatchCell& c) {
  return "{\"batch\":" + std::to_string(c.batch) + ",\"position\":" + std::to_string(c.position) + ",\"rows\":" + std::to_string(c.rows) +
         ",\"differ\":" + std::to_string(c.differ) + ",\"first_output\":" + jopt(c.first_output) +
         ",\"first_row\":" + (c.first_row < 0 ? "null" : std::to_string(c.first_row)) +
         ",\"first_col\":" + (c.first_col < 0 ? "null" : std::to_string(c.first_col)) + ",\"first_bits\":" + jopt(c.first_bits) +
         ",\"matches\":" + jstrs(c.matches) + "}";
}

std::string jbatch(const BatchProbe& b) {
  std::string o = "{\"ran\":" + jbool(b.ran()) + ",\"skipped\":" + jopt(b.skipped);
  if (!b.ran()) return o + "}";
  o += ",\"kernel\":" + jstr(b.kernel) + ",\"probe_rows\":" + std::to_string(b.probe_rows) +
       ",\"row_elements\":" + std::to_string(b.row_elements) +
       ",\"neighbour_pool\":" + std::to_string(b.neighbour_pool) + ",\"sizes\":" + jints(b.sizes) +
       ",\"positions\":[\"first\",\"middle\",\"last\"],\"cells\":[";
  for (size_t i = 0; i < b.sizes.size(); ++i)
    o += std::string(i ? ",\n" : "\n") + "[" + jcell(b.cells[3 * i]) + "," + jcell(b.cells[3 * i + 1]) + "," + jcell(b.cells[3 * i + 2]) + "]";
  o += "],\"invariant\":" + jbool(b.invariant()) + ",\"first_break\":" +
       (b.invariant() ? "null" : jcell(b.cells[size_t(b.first_break)])) + ",\"baseline_matches\":" + jstrs(b.baseline_matches) +
       ",\"baseline_forensics\":" + jforensics(b.baseline_forensics) + ",\"break_forensics\":" + jforensics(b.break_forensics) + "}";
  return o;
}

std::string jlaunch(const Launch& l) {
  return "{\"run\":" + std::to_string(l.run) + ",\"stream\":" + std::to_string(l.stream) + ",\"differ\":" + std::to_string(l.differ) +
         ",\"first_output\":" + jopt(l.first_output) + ",\"first_index\":" + (l.first_index < 0 ? "null" : std::to_string(l.first_index)) +
         ",\"first_bits\":" + jopt(l.first_bits) + "}";
}

std::string jdeterminism(const DeterminismProbe& d) {
  std::string o = "{\"ran\":" + jbool(d.ran()) + ",\"skipped\":" + jopt(d.skipped);
  if (!d.ran()) return o + "}";
  o += ",\"repeats\":" + std::to_string(d.repeats) + ",\"streams\":" + std::to_string(d.streams) + ",\"launches\":[";
  return o + jjoin(d.launches, jlaunch) + "],\"deterministic\":" + jbool(d.deterministic()) + ",\"first_diff\":" +
         (d.deterministic() ? "null" : jlaunch(d.launches[size_t(d.first_diff)])) + "}";
}

}  // namespace

std::string gpu_check_json(const GpuCheckResult& r) {
  return "{\"schema\":\"v4oracle-gpu-check-report\",\"version\":" + std::to_string(kGpuCheckJsonVersion) + ",\"op\":" + jstr(r.op) +
         ",\"recipe\":" + (r.has_recipe ? jstr(recipe_name(r.recipe)) : "null") + ",\"candidate\":" + jstr(r.candidate) +
         ",\"kernel\":" + jstr(r.kernel) + ",\"launch\":" + jopt(r.launch) + ",\"device\":" + jstr(r.device) + ",\"inputs\":" + jstr(r.origin) +
         ",\"golden_file\":" + jopt(r.golden_file) + ",\"candidate_file\":" + jopt(r.candidate_file) + ",\"pass\":" + jbool(r.pass()) +
         ",\"equal\":" + jbool(r.equal()) + ",\"problems\":" + jstrs(r.problems()) + ",\"summary\":" + jstr(gpu_check_summary_line(r)) +
         ",\n\"forensics\":" + jforensics(r.forensics) + ",\n\"batch\":" + jbatch(r.batch) + ",\n\"determinism\":" + jdeterminism(r.determinism) +
         ",\n\"comparison\":" + compare::report_json(r.diff) + "}\n";
}

std::string gpu_check_html(const GpuCheckResult& r) {
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>v4oracle gpu-check</title>\n<style>"
      "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #999;padding:3px 10px;"
      "text-align:center}td.eq{background:#c7e9c0}td.ne{background:#fcae91}td.first{outline:3px solid #a50f15}"
      "#verdict{padding:8px;font-weight:bold}.ok{background:#c7e9c0}.bad{background:#fcae91}pre{background:#f4f4f4;padding:6px}"
      "</style></head><body>\n<h1>gpu-check " + esc(r.op) + "</h1>\n";
  o += "<div id=\"verdict\" class=\"" + std::string(r.pass() ? "ok" : "bad") + "\">" + esc(gpu_check_summary_line(r)) + "</div>\n";
  o += "<p>candidate: " + esc(r.candidate) + "<br>kernel: " + esc(r.kernel) + (r.launch.empty() ? std::string() : " (" + esc(r.launch) + ")") + "<br>device: " + esc(r.device) + "<br>inputs: " +
       esc(r.origin) + (r.has_recipe ? std::string("<br>recipe: ") + recipe_name(r.recipe) : "") + "</p>\n";
  o += "<h2>Outputs vs golden</h2>\n<p>" + esc(compare::report_summary_line(r.diff)) + "</p>\n";
  const int64_t v = r.diff.verdict();
  if (v >= 0) {
    std::string d;
    compare::tensor_detail(d, r.diff.tensors[size_t(v)]);
    o += "<pre>" + esc(d) + "</pre>\n";
  }
  if (r.forensics) o += "<p><b>Forensics:</b> " + esc(r.forensics->text()) + "</p>\n";

  const BatchProbe& b = r.batch;
  o += "<h2>Batch invariance</h2>\n";
  if (!b.ran()) {
    o += "<p>not run (" + esc(b.skipped) + ")</p>\n";
  } else {
    o += "<p>kernel " + esc(b.kernel) + "; the first " + std::to_string(b.probe_rows) +
         " input rows as one block in every batch; cells: output elements whose bits differ from the rows run alone (green: bit-equal).</p>\n<table><tr><th>batch</th><th>first</th><th>middle</th><th>last</th></tr>\n";
    for (size_t i = 0; i < b.sizes.size(); ++i) {
      o += "<tr><th>" + std::to_string(b.sizes[i]) + "</th>";
      for (size_t k = 0; k < 3; ++k) {
        const BatchCell& c = b.cells[3 * i + k];
        const bool first = int64_t(3 * i + k) == b.first_break;
        o += "<td class=\"" + std::string(c.differ ? "ne" : "eq") + (first ? " first" : "") + "\" title=\"probe rows at " + std::to_string(c.position) +
             "\">" + (c.differ ? std::to_string(c.differ) : "=") + "</td>";
      }
      o += "</tr>\n";
    }
    o += "</table>\n";
    if (!b.invariant()) {
      const BatchCell& c = b.cells[size_t(b.first_break)];
      o += "<p><b>First break:</b> batch " + std::to_string(c.batch) + ", " + esc(position_text(c)) + ", " + std::to_string(c.differ) +
           " elements differ, first at batch row " + std::to_string(c.first_row) + ": " + esc(c.first_bits) +
           (c.matches.empty() ? "" : "; the changed rows match the CPU recipe " + esc(c.matches[0])) + "</p>\n";
      if (b.baseline_forensics) o += "<p>alone: " + esc(b.baseline_forensics->text()) + "</p>\n";
      if (b.break_forensics) o += "<p>batch " + std::to_string(c.batch) + ": " + esc(b.break_forensics->text()) + "</p>\n";
    }
  }

  const DeterminismProbe& d = r.determinism;
  o += "<h2>Determinism</h2>\n";
  if (!d.ran()) {
    o += "<p>not run (" + esc(d.skipped) + ")</p>\n";
  } else {
    o += "<table><tr><th>launch</th><td>1</td>";
    for (const Launch& l : d.launches) o += "<td>" + std::to_string(l.run) + (l.stream ? " (stream " + std::to_string(l.stream) + ")" : "") + "</td>";
    o += "</tr>\n<tr><th>vs launch 1</th><td class=\"eq\">reference</td>";
    for (const Launch& l : d.launches)
      o += "<td class=\"" + std::string(l.differ ? "ne" : "eq") + "\">" + (l.differ ? std::to_string(l.differ) : "=") + "</td>";
    o += "</tr></table>\n";
  }
  return o + "</body></html>\n";
}

}  // namespace v4::harness
