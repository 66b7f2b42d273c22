// Shared by the comparator's report writers (internal to compare/): small formatting helpers and the
// text pieces the HTML page embeds (meta_text, tensor_detail, defined in report_text.cpp).
#pragma once
#include <algorithm>
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
// A JSON string literal: quotes, backslashes and control characters escaped.
inline std::string jstr(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': o += "\\\""; break;
      case '\\': o += "\\\\"; break;
      case '\n': o += "\\n"; break;
      case '\r': o += "\\r"; break;
      case '\t': o += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          o += buf;
        } else {
          o += char(c);
        }
    }
  }
  return o + "\"";
}
// f(item) of every item, comma-separated: the body of a JSON array or object.
template <class Range, class F>
inline std::string jjoin(const Range& items, F&& f) {
  std::string o;
  for (const auto& x : items) {
    if (!o.empty()) o += ',';
    o += f(x);
  }
  return o;
}

// Text escaped for HTML content and attribute values.
inline std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}
// "1 element", "2 elements", "0 elements": a count with its noun in the number it takes (`many`:
// the plural form when it is not the noun + "s").
inline std::string plural(int64_t n, const std::string& noun, const std::string& many = "") {
  return std::to_string(n) + " " + (n == 1 ? noun : many.empty() ? noun + "s" : many);
}
// The verb after a counted subject: "1 element differs", "2 elements differ".
inline const char* verb_s(int64_t n, const char* verb_plural, const char* verb_singular) { return n == 1 ? verb_singular : verb_plural; }

// "local (teacher_forced)", "accumulated (free_running)", "single run".
inline std::string run_label(const std::string& run) {
  if (run == kRunTeacherForced) return "local (teacher_forced)";
  if (run == kRunFreeRunning) return "accumulated (free_running)";
  return run.empty() ? "single run" : run;
}
// Bit-equal share as text, never rounded up to 100: "100%" only when every element is bit-equal, else
// the percentage floored to 4 decimals ("99.9999%" for one differing element in ten million).
inline std::string bit_equal_pct(int64_t equal, int64_t n) {
  if (equal == n) return "100%";
  const double floored = std::floor(1e6 * double(equal) / double(n)) / 1e4;
  return fmtf("%.4f", std::min(floored, 99.9999)) + "%";
}
// Elements and tensors of one role (kRoleInput / kRoleOutput), for reporting copied inputs apart from
// what the candidate computed.
struct RoleTally {
  int64_t tensors = 0, tensors_bit_equal = 0, elements = 0, bit_equal = 0;
};
inline RoleTally role_tally(const CompareResult& r, const std::string& role) {
  RoleTally t;
  for (const TensorResult& x : r.tensors)
    if (x.role == role && x.rule.budget.kind != Budget::Kind::ignore) {
      ++t.tensors, t.elements += x.stats.n, t.bit_equal += x.stats.bit_equal;
      t.tensors_bit_equal += x.stats.bit_equal == x.stats.n;
    }
  return t;
}

// A tensor's path in the candidate: its run group, then the golden path.
inline std::string with_run(const TensorResult& t) { return t.run.empty() ? t.path : "/" + t.run + t.path; }

// "path (kind name, seed S, recipe R, generator V C)".
std::string meta_text(const std::string& path, const golden::FileMeta& m);
// Appends the indented detail of one tensor (budget, why, first/worst mismatch, counts, distances,
// histogram, quant and index analysis) to o.
void tensor_detail(std::string& o, const TensorResult& t);

}  // namespace v4::compare
