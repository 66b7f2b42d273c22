// gpu-check's reports (docs/gpu-check.md §Reports): one summary line, text, JSON (schema
// "v4oracle-gpu-check-report", version kGpuCheckJsonVersion) embedding the comparator's JSON report, and a
// self-contained HTML page with the batch-size x position matrix. Written with compare/report.h's
// report_write_all (atomic, "-" = stdout).
#pragma once
#include <string>

#include "compare/harness/gpu_check.h"

namespace v4::harness {

inline constexpr int kGpuCheckJsonVersion = 1;

std::string gpu_check_summary_line(const GpuCheckResult& r);
std::string gpu_check_text(const GpuCheckResult& r);  // ends with the summary line
std::string gpu_check_json(const GpuCheckResult& r);
std::string gpu_check_html(const GpuCheckResult& r);

// "first (0)" for a probe cell; "c[5]" for an element of an output row.
std::string position_text(const BatchCell& c);

}  // namespace v4::harness
