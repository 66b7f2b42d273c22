// Shared by the comparator's report writers (internal to compare/): small formatting helpers and the
// text pieces the HTML page embeds (meta_text, tensor_detail, defined in report_text.cpp).
#pragma once
#include <cmath>
#include <cstdio>
#include <string>

#include "compare/compare.h"

namespace v4::compare {

inline std::string fmtf(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
inline std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmtf("%.6g", v);
}
// "local (teacher_forced)", "accumulated (free_running)", "single run".
inline std::string run_label(const std::string& run) {
  if (run == kRunTeacherForced) return "local (teacher_forced)";
  if (run == kRunFreeRunning) return "accumulated (free_running)";
  return run.empty() ? "single run" : run;
}
// A tensor's path in the candidate: its run group, then the golden path.
inline std::string with_run(const TensorResult& t) { return t.run.empty() ? t.path : "/" + t.run + t.path; }

// "path (kind name, seed S, recipe R, generator V C)".
std::string meta_text(const std::string& path, const golden::FileMeta& m);
// Appends the indented detail of one tensor (budget, why, first/worst mismatch, counts, distances,
// histogram, quant and index analysis) to o.
void tensor_detail(std::string& o, const TensorResult& t);

}  // namespace v4::compare
