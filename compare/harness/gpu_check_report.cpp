// gpu-check's text report and summary line (gpu_check_report.h); JSON and HTML in gpu_check_report_web.cpp.
#include "compare/harness/gpu_check_report.h"

#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::harness {

namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string o;
  for (const std::string& s : v) o += (o.empty() ? "" : sep) + s;
  return o;
}

std::string cell_text(const BatchCell& c) { return c.differ ? std::to_string(c.differ) + " differ" : "="; }

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

}  // namespace

std::string position_text(const BatchCell& c) {
  const char* name = c.position == 0 ? "first" : c.position == c.batch - c.rows ? "last" : "middle";
  return std::string(name) + " position (probe rows at batch rows " + std::to_string(c.position) + ".." +
         std::to_string(c.position + c.rows - 1) + ")";
}

std::string gpu_check_summary_line(const GpuCheckResult& r) {
  const std::string what = "gpu-check " + r.op + (r.has_recipe ? std::string(" [") + recipe_name(r.recipe) + "]" : "") +
                           " with " + r.candidate + ": ";
  if (r.pass()) {
    std::string ok = "PASS: outputs bit-equal to the golden";
    if (r.batch.ran()) ok += ", batch-invariant over " + std::to_string(r.batch.sizes.size()) + " batch sizes";
    if (r.determinism.ran()) ok += ", deterministic over " + std::to_string(r.determinism.launches.size() + 1) + " launches";
    return what + ok;
  }
  return what + "FAIL: " + join(r.problems(), "; ");
}

std::string gpu_check_text(const GpuCheckResult& r) {
  std::string o = "gpu-check " + r.op + (r.has_recipe ? std::string(" [") + recipe_name(r.recipe) + "]" : "") + "\n";
  o += "candidate: " + r.candidate + ", kernel " + r.kernel + (r.launch.empty() ? "" : " (" + r.launch + ")") + ", device " + r.device + "\n";
  o += "inputs:    " + r.origin + "\n";
  if (!r.golden_file.empty()) o += "files:     " + r.golden_file + ", " + r.candidate_file + "\n";
  o += "\nOUTPUTS VS GOLDEN: " + compare::report_summary_line(r.diff) + "\n";
  const int64_t v = r.diff.verdict();
  if (v >= 0) compare::tensor_detail(o, r.diff.tensors[size_t(v)]);
  if (r.forensics) o += "forensics: " + r.forensics->text() + "\n";

  o += "\nBATCH INVARIANCE: ";
  const BatchProbe& b = r.batch;
  if (!b.ran()) {
    o += "not run (" + b.skipped + ")\n";
  } else {
    o += "kernel " + b.kernel + "; the first " + std::to_string(b.probe_rows) + " input rows (" + std::to_string(b.row_elements) +
         " output elements each), each run alone, then as one block at the first, middle and last position of each batch\n"
         "  (min(batch, " + std::to_string(b.probe_rows) + ") of them; neighbours drawn from " + std::to_string(b.neighbour_pool) +
         " rows); each cell: elements whose bits differ from the rows run alone\n";
    o += "  " + pad("batch", 8) + pad("first", 12) + pad("middle", 12) + "last\n";
    for (size_t i = 0; i < b.sizes.size(); ++i)
      o += "  " + pad(std::to_string(b.sizes[i]), 8) + pad(cell_text(b.cells[3 * i]), 12) + pad(cell_text(b.cells[3 * i + 1]), 12) +
           cell_text(b.cells[3 * i + 2]) + "\n";
    o += "  the rows run alone match " + (b.baseline_matches.empty() ? std::string("no CPU recipe") : "the CPU " + std::string(b.baseline_matches.size() == 1 ? "recipe " : "recipes ") + join(b.baseline_matches, ", ")) + "\n";
    if (b.invariant()) {
      o += "  invariant: every placement bit-equal to the rows run alone\n";
    } else {
      const BatchCell& c = b.cells[size_t(b.first_break)];
      o += "  FIRST BREAK: kernel " + b.kernel + ", batch " + std::to_string(c.batch) + ", " + position_text(c) + ": " +
           std::to_string(c.differ) + " of " + std::to_string(c.rows * b.row_elements) + " elements differ, first at batch row " +
           std::to_string(c.first_row) + ", " + c.first_output + "[" + std::to_string(c.first_col) + "] of that row: " + c.first_bits + "; the changed rows match " +
           (c.matches.empty() ? std::string("no CPU recipe") : std::string(c.matches.size() == 1 ? "the CPU recipe " : "the CPU recipes ") + join(c.matches, ", ")) + "\n";
      if (b.baseline_forensics) o += "  alone: " + b.baseline_forensics->text() + "\n";
      if (b.break_forensics) o += "  batch " + std::to_string(c.batch) + ": " + b.break_forensics->text() + "\n";
    }
  }

  o += "\nDETERMINISM: ";
  const DeterminismProbe& d = r.determinism;
  if (!d.ran()) {
    o += "not run (" + d.skipped + ")\n";
  } else {
    o += std::to_string(d.repeats) + " launches on stream 0";
    if (d.streams > 1) o += ", one on each of " + compare::plural(d.streams - 1, "other stream");
    if (d.deterministic()) {
      o += ": all bit-identical\n";
    } else {
      const Launch& l = d.launches[size_t(d.first_diff)];
      o += ": launch " + std::to_string(l.run) + " (stream " + std::to_string(l.stream) + ") differs from launch 1 in " +
           std::to_string(l.differ) + " elements, first " + l.first_output + "[" + std::to_string(l.first_index) + "]: " + l.first_bits + "\n";
    }
  }
  return o + "\n" + gpu_check_summary_line(r) + "\n";
}

}  // namespace v4::harness
