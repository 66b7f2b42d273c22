// Reports of a comparison (docs/compare.md §Reports): one summary line, a text report (per-layer table,
// failing tensors, the first divergence in detail), JSON (schema "v4oracle-compare-report" version 1,
// documented in docs/compare.md), and a self-contained HTML page (inline CSS and SVG, no scripts, no
// network) with per-layer plots and, for the first kPlottedFailures failing tensors of each run, a
// mismatch heatmap, a distance histogram and an error-against-|golden| density.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "compare/compare.h"
#include "golden/output_file.h"

namespace v4::compare {

inline constexpr int kJsonReportVersion = 2;  // 2: element values are numbers, absent strings null, roles, warnings

std::string report_summary_line(const CompareResult& r);
std::string report_text(const CompareResult& r);  // ends with the summary line
std::string report_json(const CompareResult& r);
std::string report_html(const CompareResult& r);

// Writes one report whole (golden/output_file.h: temp file beside it then rename; a device or "-" in
// place). InputError when the path cannot be an output, OutputError when writing fails.
void report_write_atomic(const std::string& path, const std::string& content);
// Several reports, all or none: every temp file is written before any is renamed into place.
void report_write_all(const std::vector<std::pair<golden::OutputTarget, std::string>>& reports);

}  // namespace v4::compare
