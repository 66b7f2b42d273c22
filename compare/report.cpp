// Reports: see report.h. Text and JSON are built from CompareResult only; the HTML page draws its plots
// as inline SVG (log-scaled per-layer series of max distance and NMSE per component, and a downsampled
// mismatch heatmap), so it renders offline in any browser.
#include "compare/report.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

namespace v4::compare {

namespace {

std::string fmtf(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmtf("%.6g", v);
}
std::string shape_text(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}
std::string run_label(const std::string& run) {
  if (run == kRunTeacherForced) return "local (teacher_forced)";
  if (run == kRunFreeRunning) return "accumulated (free_running)";
  return run.empty() ? "single run" : run;
}
std::string with_run(const TensorResult& t) { return t.run.empty() ? t.path : "/" + t.run + t.path; }

std::string elements_text(int64_t n) {
  if (n >= 10000000) return fmtf("%.1f M", double(n) / 1e6);
  return std::to_string(n);
}

std::string meta_text(const std::string& path, const golden::FileMeta& m) {
  std::string s = path + " (" + (m.kind.empty() ? "unknown kind" : m.kind);
  if (!m.name.empty()) s += " " + m.name;
  if (m.seed) s += ", seed " + std::to_string(*m.seed);
  if (m.recipe) s += ", recipe " + *m.recipe;
  if (!m.generator_version.empty()) s += ", generator " + m.generator_version + " " + m.generator_commit;
  return s + ")";
}

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

void tensor_detail(std::string& o, const TensorResult& t) {
  const TensorStats& s = t.stats;
  o += "  " + std::string(fmt_name(t.fmt)) + " " + shape_text(t.shape) + ", budget " + t.rule.budget.text() +
       " (" + t.rule.reason + ")\n";
  o += "  " + t.why + "\n";
  if (!t.first_text.empty()) o += "  first mismatch " + t.first_text + "\n";
  if (!t.worst_text.empty()) o += "  worst mismatch " + t.worst_text + "\n";
  o += "  bit-equal " + std::to_string(s.bit_equal) + " of " + std::to_string(s.n) + "; NaN golden " + std::to_string(s.nan_a) +
       " candidate " + std::to_string(s.nan_b) + " (both " + std::to_string(s.nan_both) + ", payloads differ " +
       std::to_string(s.nan_bits_differ) + "); inf golden " + std::to_string(s.inf_a) + " candidate " + std::to_string(s.inf_b) +
       "; NaN/inf class mismatches " + std::to_string(s.nonfinite_mismatch) + "\n";
  o += "  max " + std::to_string(s.max_steps) + " " + steps_unit(t.fmt) + "; max abs err " + num(s.max_abs) + ", max rel err " +
       num(s.max_rel) + ", NMSE " + num(s.nmse()) + ", calc_diff " + num(s.calc_diff()) + "\n";
  o += "  distance histogram: " + hist_text(s) + "\n";
  if (t.quant) {
    const QuantStats& q = *t.quant;
    o += "  quantized: " + std::to_string(q.flips) + " code flips";
    if (q.flips) {
      o += " (on a rounding tie " + std::to_string(q.flips_on_tie) + ", not a tie " + std::to_string(q.flips_not_tie) +
           ", tie unknown " + std::to_string(q.flips_tie_unknown) + (q.source.empty() ? ": no source values in the golden" : "") +
           ")";
    }
    if (!q.scale.empty())
      o += "; scale " + q.scale + ": " +
           (q.scale_mismatch < 0 ? std::string("not compared")
                                 : std::to_string(q.scale_mismatch) + " scale mismatches (max " +
                                       std::to_string(q.scale_max_steps) + " steps)");
    o += "\n";
  }
  if (t.index) {
    const IndexStats& x = *t.index;
    o += "  top-k indices (scores " + x.scores + "): " + std::to_string(x.rows_differ) + " of " + std::to_string(x.rows) +
         " rows differ: " + std::to_string(x.rows_tie_flip) + " tie flips (equal scores), " + std::to_string(x.rows_real) +
         " real mismatches; set differences " + std::to_string(x.set_diff) + ", order differences " +
         std::to_string(x.order_diff) + "\n";
    if (x.first_real_row >= 0) o += "  first real mismatch: " + x.first_real_detail + "\n";
    if (x.first_tie_row >= 0) o += "  first tie flip: " + x.first_tie_detail + "\n";
  }
}

// JSON helpers ------------------------------------------------------------------------------

std::string jstr(const std::string& s) {
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
std::string jnum(double v) {
  if (std::isnan(v)) return "\"nan\"";
  if (std::isinf(v)) return v > 0 ? "\"inf\"" : "\"-inf\"";
  return fmtf("%.17g", v);
}
std::string jshape(const std::vector<int64_t>& s) {
  std::string o = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) o += ',';
    o += std::to_string(s[i]);
  }
  o += ']';
  return o;
}

std::string jref(Fmt f, const std::vector<int64_t>& shape, const ElemRef& r) {
  if (r.index < 0) return "null";
  uint8_t ba[8], bb[8];
  std::memcpy(ba, &r.a_bits, 8);
  std::memcpy(bb, &r.b_bits, 8);
  const Elem a = elem_read(f, ba, 0, 0), b = elem_read(f, bb, 0, 0);
  return "{\"index\":" + std::to_string(r.index) + ",\"coords\":" + jshape(coords_of(shape, r.index)) +
         ",\"golden_bits\":" + jstr(bits_hex(f, r.a_bits)) + ",\"candidate_bits\":" + jstr(bits_hex(f, r.b_bits)) +
         ",\"golden_value\":" + jstr(elem_value_text(f, a)) + ",\"candidate_value\":" + jstr(elem_value_text(f, b)) +
         ",\"steps\":" + (r.steps_valid ? std::to_string(r.steps) : std::string("null")) + "}";
}

std::string jmeta(const std::string& path, const golden::FileMeta& m) {
  std::string o = "{\"path\":" + jstr(path) + ",\"schema_version\":" + std::to_string(m.schema_version) +
                  ",\"kind\":" + jstr(m.kind) + ",\"name\":" + jstr(m.name) +
                  ",\"generator_version\":" + jstr(m.generator_version) + ",\"generator_commit\":" + jstr(m.generator_commit);
  o += ",\"seed\":" + (m.seed ? std::to_string(*m.seed) : std::string("null"));
  o += ",\"recipe\":" + (m.recipe ? jstr(*m.recipe) : std::string("null"));
  o += ",\"config\":" + (m.config_json ? jstr(*m.config_json) : std::string("null"));
  o += ",\"release_switches\":" + (m.release_switches_json ? jstr(*m.release_switches_json) : std::string("null"));
  return o + "}";
}

std::string jrule(const PolicyRule& r) {
  return "{\"pattern\":" + jstr(r.pattern) + ",\"budget\":" + jstr(r.budget.text()) + ",\"reason\":" + jstr(r.reason) +
         ",\"line\":" + std::to_string(r.line) + "}";
}

std::string jtensor(const TensorResult& t) {
  const TensorStats& s = t.stats;
  std::string o = "{\"run\":" + jstr(t.run) + ",\"path\":" + jstr(t.path) + ",\"layer\":" + jstr(t.layer) +
                  ",\"component\":" + jstr(t.component) + ",\"tensor\":" + jstr(t.tensor) +
                  ",\"format\":" + jstr(fmt_name(t.fmt)) + ",\"shape\":" + jshape(t.shape) +
                  ",\"budget\":" + jstr(t.rule.budget.text()) + ",\"reason\":" + jstr(t.rule.reason) +
                  ",\"pattern\":" + jstr(t.rule.pattern) + ",\"pass\":" + (t.pass ? "true" : "false") +
                  ",\"why\":" + jstr(t.why);
  o += ",\"elements\":" + std::to_string(s.n) + ",\"bit_equal\":" + std::to_string(s.bit_equal) +
       ",\"nan_golden\":" + std::to_string(s.nan_a) + ",\"nan_candidate\":" + std::to_string(s.nan_b) +
       ",\"inf_golden\":" + std::to_string(s.inf_a) + ",\"inf_candidate\":" + std::to_string(s.inf_b) +
       ",\"nan_both\":" + std::to_string(s.nan_both) + ",\"nan_bits_differ\":" + std::to_string(s.nan_bits_differ) +
       ",\"nonfinite_mismatch\":" + std::to_string(s.nonfinite_mismatch) + ",\"max_steps\":" + std::to_string(s.max_steps) +
       ",\"steps_unit\":" + jstr(steps_unit(t.fmt)) + ",\"steps_hist\":[";
  for (int b = 0; b < kUlpBuckets; ++b) {
    if (b) o += ',';
    o += std::to_string(s.steps_hist[size_t(b)]);
  }
  o += "],\"max_abs\":" + jnum(s.max_abs) + ",\"max_rel\":" + jnum(s.max_rel) + ",\"nmse\":" + jnum(s.nmse()) +
       ",\"calc_diff\":" + jnum(s.calc_diff()) + ",\"over_budget\":" + std::to_string(s.over_count) +
       ",\"first_diff\":" + jref(t.fmt, t.shape, s.first_diff) + ",\"worst\":" + jref(t.fmt, t.shape, s.worst) +
       ",\"first_over\":" + jref(t.fmt, t.shape, s.first_over);
  if (t.quant) {
    const QuantStats& q = *t.quant;
    o += ",\"quant\":{\"scale\":" + jstr(q.scale) + ",\"source\":" + jstr(q.source) + ",\"block\":" + jshape(q.block) +
         ",\"flips\":" + std::to_string(q.flips) + ",\"flips_on_tie\":" + std::to_string(q.flips_on_tie) +
         ",\"flips_not_tie\":" + std::to_string(q.flips_not_tie) + ",\"flips_tie_unknown\":" +
         std::to_string(q.flips_tie_unknown) + ",\"scale_mismatch\":" +
         (q.scale_mismatch < 0 ? std::string("null") : std::to_string(q.scale_mismatch)) +
         ",\"scale_max_steps\":" + std::to_string(q.scale_max_steps) + "}";
  }
  if (t.index) {
    const IndexStats& x = *t.index;
    o += ",\"index\":{\"scores\":" + jstr(x.scores) + ",\"rows\":" + std::to_string(x.rows) + ",\"k\":" + std::to_string(x.k) +
         ",\"rows_differ\":" + std::to_string(x.rows_differ) + ",\"rows_tie_flip\":" + std::to_string(x.rows_tie_flip) +
         ",\"rows_real\":" + std::to_string(x.rows_real) + ",\"set_diff\":" + std::to_string(x.set_diff) +
         ",\"order_diff\":" + std::to_string(x.order_diff) + ",\"first_tie_row\":" + std::to_string(x.first_tie_row) +
         ",\"first_tie_detail\":" + jstr(x.first_tie_detail) + ",\"first_real_row\":" + std::to_string(x.first_real_row) +
         ",\"first_real_detail\":" + jstr(x.first_real_detail) + "}";
  }
  return o + "}";
}

// HTML helpers ------------------------------------------------------------------------------

std::string esc(const std::string& s) {
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

const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#d62728"};

// A per-layer line plot: one series per component, y already transformed (log scale); markers for
// failing tensors are red rings.
struct Series {
  std::string name;
  std::vector<std::pair<int, double>> pts;  // (layer position, y)
  std::vector<bool> failed;
};

std::string svg_plot(const std::string& id, const std::string& title, const std::string& ylabel,
                     const std::vector<std::string>& layers, const std::vector<Series>& series, double ymin, double ymax,
                     const std::vector<std::pair<double, std::string>>& yticks) {
  const int W = 1100, H = 300, L = 70, R = 190, T = 30, B = 40;
  const int pw = W - L - R, ph = H - T - B;
  const auto X = [&](int i) { return L + (layers.size() <= 1 ? pw / 2.0 : pw * double(i) / double(layers.size() - 1)); };
  const auto Y = [&](double y) { return T + ph * (1.0 - (std::clamp(y, ymin, ymax) - ymin) / (ymax - ymin)); };
  std::string o = "<svg id=\"" + id + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(W) + "\" height=\"" +
                  std::to_string(H) + "\" viewBox=\"0 0 " + std::to_string(W) + " " + std::to_string(H) + "\">";
  o += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H) + "\" fill=\"#ffffff\"/>";
  o += "<text x=\"" + std::to_string(L) + "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">" + esc(title) + "</text>";
  o += "<rect x=\"" + std::to_string(L) + "\" y=\"" + std::to_string(T) + "\" width=\"" + std::to_string(pw) + "\" height=\"" +
       std::to_string(ph) + "\" fill=\"#f6f8fa\" stroke=\"#888\"/>";
  for (const auto& [v, label] : yticks) {
    const double y = Y(v);
    o += "<line x1=\"" + std::to_string(L) + "\" x2=\"" + std::to_string(L + pw) + "\" y1=\"" + fmtf("%.1f", y) + "\" y2=\"" +
         fmtf("%.1f", y) + "\" stroke=\"#ddd\"/>";
    o += "<text x=\"" + std::to_string(L - 6) + "\" y=\"" + fmtf("%.1f", y + 4) + "\" font-size=\"11\" text-anchor=\"end\">" +
         esc(label) + "</text>";
  }
  const size_t step = std::max<size_t>(1, layers.size() / 20);
  for (size_t i = 0; i < layers.size(); i += step)
    o += "<text x=\"" + fmtf("%.1f", X(int(i))) + "\" y=\"" + std::to_string(T + ph + 16) +
         "\" font-size=\"11\" text-anchor=\"middle\">" + esc(layers[i]) + "</text>";
  o += "<text x=\"" + std::to_string(L + pw / 2) + "\" y=\"" + std::to_string(H - 4) +
       "\" font-size=\"12\" text-anchor=\"middle\">layer (model order)</text>";
  o += "<text x=\"14\" y=\"" + std::to_string(T + ph / 2) + "\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 " +
       std::to_string(T + ph / 2) + ")\">" + esc(ylabel) + "</text>";
  for (size_t si = 0; si < series.size(); ++si) {
    const Series& s = series[si];
    const std::string col = kPalette[si % (sizeof kPalette / sizeof *kPalette - 1)];
    std::string pts;
    for (const auto& [i, y] : s.pts) pts += fmtf("%.1f", X(i)) + "," + fmtf("%.1f", Y(y)) + " ";
    o += "<polyline class=\"series\" fill=\"none\" stroke=\"" + col + "\" stroke-width=\"2.5\" points=\"" + pts + "\"/>";
    for (size_t k = 0; k < s.pts.size(); ++k) {
      o += "<circle cx=\"" + fmtf("%.1f", X(s.pts[k].first)) + "\" cy=\"" + fmtf("%.1f", Y(s.pts[k].second)) + "\" r=\"4\" fill=\"" +
           col + "\"" + (s.failed[k] ? " stroke=\"#d62728\" stroke-width=\"3\"" : "") + "><title>" + esc(s.name) + " layer " +
           esc(layers[size_t(s.pts[k].first)]) + "</title></circle>";
    }
    const int ly = T + 14 + int(si) * 16;
    if (ly < T + ph) {
      o += "<rect x=\"" + std::to_string(L + pw + 10) + "\" y=\"" + std::to_string(ly - 9) + "\" width=\"12\" height=\"10\" fill=\"" +
           col + "\"/>";
      o += "<text x=\"" + std::to_string(L + pw + 26) + "\" y=\"" + std::to_string(ly) + "\" font-size=\"11\">" + esc(s.name) + "</text>";
    }
  }
  return o + "</svg>";
}

std::string svg_heatmap(const TensorResult& t) {
  const int cw = std::max(4, 900 / std::max(1, t.grid_cols)), ch = std::max(4, 300 / std::max(1, t.grid_rows));
  const int L = 60, T = 30;
  const int W = L + cw * t.grid_cols + 20, H = T + ch * t.grid_rows + 40;
  int64_t maxc = 1;
  for (int64_t v : t.grid_count) maxc = std::max(maxc, v);
  std::string o = "<svg id=\"heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(W) + "\" height=\"" +
                  std::to_string(H) + "\">";
  o += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(W) + "\" height=\"" + std::to_string(H) + "\" fill=\"#ffffff\"/>";
  o += "<text x=\"" + std::to_string(L) + "\" y=\"18\" font-size=\"14\" font-weight=\"bold\">Mismatch heatmap: " +
       esc(with_run(t)) + " (" + std::to_string(t.grid_rows) + " x " + std::to_string(t.grid_cols) +
       " cells; darker = more differing elements)</text>";
  o += "<rect x=\"" + std::to_string(L) + "\" y=\"" + std::to_string(T) + "\" width=\"" + std::to_string(cw * t.grid_cols) +
       "\" height=\"" + std::to_string(ch * t.grid_rows) + "\" fill=\"#f6f8fa\" stroke=\"#888\"/>";
  for (int r = 0; r < t.grid_rows; ++r)
    for (int c = 0; c < t.grid_cols; ++c) {
      const int64_t v = t.grid_count[size_t(r) * size_t(t.grid_cols) + size_t(c)];
      if (!v) continue;
      const double a = 0.35 + 0.65 * std::log1p(double(v)) / std::log1p(double(maxc));
      o += "<rect x=\"" + std::to_string(L + c * cw) + "\" y=\"" + std::to_string(T + r * ch) + "\" width=\"" + std::to_string(cw) +
           "\" height=\"" + std::to_string(ch) + "\" fill=\"#d62728\" fill-opacity=\"" + fmtf("%.3f", a) + "\"><title>" +
           std::to_string(v) + " differing, max " + std::to_string(t.grid_max[size_t(r) * size_t(t.grid_cols) + size_t(c)]) +
           " steps</title></rect>";
    }
  o += "<text x=\"" + std::to_string(L) + "\" y=\"" + std::to_string(H - 12) + "\" font-size=\"11\">rows: all dims but the last ("
       + std::to_string(t.grid_rows) + " bands); columns: last dim (" + std::to_string(t.grid_cols) + " bands)</text>";
  return o + "</svg>";
}

}  // namespace

std::string report_summary_line(const CompareResult& r) {
  const int64_t v = r.verdict();
  int64_t n = 0, failed = 0;
  for (const TensorResult& t : r.tensors) n += 1, failed += !t.pass;
  std::string s = "v4oracle compare: ";
  if (v < 0) {
    s += "OK: " + std::to_string(n) + " tensors within policy (" + elements_text(r.elements) + " elements";
    int64_t eq = 0;
    for (const TensorResult& t : r.tensors) eq += t.stats.bit_equal;
    s += ", " + (r.elements ? fmtf("%.4f", 100.0 * double(eq) / double(r.elements)) : std::string("100")) + "% bit-equal)";
    return s;
  }
  const TensorResult& t = r.tensors[size_t(v)];
  s += "DIVERGED at " + with_run(t);
  const std::string& first = t.first_text;
  if (!first.empty()) s += " " + first.substr(0, first.find(':'));
  s += ": " + t.why + " [" + t.rule.reason + "]; " + std::to_string(failed) + " of " + std::to_string(n) + " tensors over policy";
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
    o += "  note:      the candidate has " + std::to_string(r.candidate_extra.size()) +
         " datasets the golden lacks (ignored), first " + r.candidate_extra.front() + "\n";
  o += "\n";
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

std::string report_json(const CompareResult& r) {
  const int64_t v = r.verdict();
  std::string o = "{\n\"schema\":\"v4oracle-compare-report\",\"version\":" + std::to_string(kJsonReportVersion) +
                  ",\n\"result\":" + jstr(v < 0 ? "ok" : "diverged") + ",\"exit_code\":" + (v < 0 ? "0" : "1") +
                  ",\n\"summary\":" + jstr(report_summary_line(r)) + ",\n\"golden\":" + jmeta(r.golden_path, r.golden_meta) +
                  ",\n\"candidate\":" + jmeta(r.candidate_path, r.candidate_meta) + ",\n\"runs\":[";
  for (size_t i = 0; i < r.runs.size(); ++i) o += (i ? "," : "") + jstr(r.runs[i]);
  o += "],\n\"policy\":{\"default\":" + jrule(r.policy_default) + ",\"file\":" + jstr(r.policy_file) + ",\"rules\":[";
  for (size_t i = 0; i < r.policy_rules.size(); ++i) o += (i ? "," : "") + jrule(r.policy_rules[i]);
  o += "]},\n\"verdict\":";
  if (v < 0) {
    o += "null";
  } else {
    const TensorResult& t = r.tensors[size_t(v)];
    const bool ulp_first = t.rule.budget.kind == Budget::Kind::ulp && !t.index;
    o += "{\"run\":" + jstr(t.run) + ",\"path\":" + jstr(t.path) + ",\"layer\":" + jstr(t.layer) + ",\"component\":" +
         jstr(t.component) + ",\"tensor\":" + jstr(t.tensor) + ",\"why\":" + jstr(t.why) + ",\"reason\":" + jstr(t.rule.reason) +
         ",\"first\":" + jref(t.fmt, t.shape, ulp_first ? t.stats.first_over : t.stats.first_diff) +
         ",\"worst\":" + jref(t.fmt, t.shape, t.stats.worst) + "}";
  }
  o += ",\n\"first_failure\":{";
  for (size_t i = 0; i < r.runs.size(); ++i) {
    const int64_t f = r.first_failure(r.runs[i]);
    o += (i ? "," : "") + jstr(r.runs[i]) + ":" + (f < 0 ? std::string("null") : jstr(r.tensors[size_t(f)].path));
  }
  o += "},\n\"layers\":[";
  for (size_t i = 0; i < r.layers.size(); ++i) {
    const LayerSummary& l = r.layers[i];
    o += std::string(i ? ",\n" : "\n") + "{\"run\":" + jstr(l.run) + ",\"layer\":" + jstr(l.layer) + ",\"tensors\":" +
         std::to_string(l.tensors) + ",\"tensors_bit_equal\":" + std::to_string(l.tensors_bit_equal) +
         ",\"tensors_failed\":" + std::to_string(l.tensors_failed) + ",\"elements\":" + std::to_string(l.elements) +
         ",\"elements_bit_equal\":" + std::to_string(l.elements_bit_equal) + ",\"max_steps\":" + std::to_string(l.max_steps) +
         ",\"max_nmse\":" + jnum(l.max_nmse) + ",\"worst_tensor\":" + jstr(l.worst_tensor) +
         ",\"first_failed\":" + jstr(l.first_failed) + "}";
  }
  o += "],\n\"tensors\":[";
  for (size_t i = 0; i < r.tensors.size(); ++i) o += std::string(i ? ",\n" : "\n") + jtensor(r.tensors[i]);
  o += "],\n\"candidate_extra\":[";
  for (size_t i = 0; i < r.candidate_extra.size(); ++i) o += (i ? "," : "") + jstr(r.candidate_extra[i]);
  o += "],\n\"elements\":" + std::to_string(r.elements) + ",\"bytes_read\":" + std::to_string(r.bytes_read) +
       ",\"seconds\":" + jnum(r.seconds) + "\n}\n";
  return o;
}

std::string report_html(const CompareResult& r) {
  const int64_t v = r.verdict();
  std::string o =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>v4oracle compare</title>\n<style>"
      "body{font-family:sans-serif;margin:16px;color:#1f2328;background:#ffffff}"
      "#verdict{padding:12px 16px;font-size:18px;font-weight:bold;color:#ffffff;margin-bottom:12px}"
      ".ok{background:#1a7f37}.bad{background:#cf222e}"
      "table{border-collapse:collapse;font-size:12px;margin:8px 0}td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:right}"
      "th{background:#f6f8fa}td.l{text-align:left}tr.fail td{background:#ffebe9}pre{font-size:12px;background:#f6f8fa;padding:8px;"
      "white-space:pre-wrap}h2{font-size:16px;margin-top:20px}</style></head><body>\n";
  o += "<div id=\"verdict\" class=\"" + std::string(v < 0 ? "ok" : "bad") + "\">" + esc(report_summary_line(r)) + "</div>\n";
  o += "<div>golden: " + esc(meta_text(r.golden_path, r.golden_meta)) + "<br>candidate: " +
       esc(meta_text(r.candidate_path, r.candidate_meta)) + "</div>\n";

  for (const std::string& run : r.runs) {
    // Layers in model order for this run, components in first-appearance order.
    std::vector<std::string> layers, comps;
    for (const TensorResult& t : r.tensors) {
      if (t.run != run) continue;
      if (std::find(layers.begin(), layers.end(), t.layer) == layers.end()) layers.push_back(t.layer);
      if (std::find(comps.begin(), comps.end(), t.component) == comps.end()) comps.push_back(t.component);
    }
    std::vector<Series> steps_s, nmse_s;
    double max_y = 1;
    for (const std::string& comp : comps) {
      Series s1{comp, {}, {}}, s2{comp, {}, {}};
      for (size_t li = 0; li < layers.size(); ++li) {
        uint64_t ms = 0;
        double nm = 0;
        bool any = false, fail = false;
        for (const TensorResult& t : r.tensors)
          if (t.run == run && t.layer == layers[li] && t.component == comp) {
            any = true;
            fail = fail || !t.pass;
            ms = std::max(ms, t.stats.max_steps);
            if (t.fmt != Fmt::i32 && t.fmt != Fmt::i64) nm = std::max(nm, t.stats.nmse());
          }
        if (!any) continue;
        const double y1 = std::log2(1.0 + double(ms));
        max_y = std::max(max_y, y1);
        s1.pts.push_back({int(li), y1}), s1.failed.push_back(fail);
        const double y2 = nm > 0 ? std::log10(nm) : -20;
        s2.pts.push_back({int(li), std::max(-20.0, std::min(2.0, y2))}), s2.failed.push_back(fail);
      }
      steps_s.push_back(std::move(s1));
      nmse_s.push_back(std::move(s2));
    }
    std::vector<std::pair<double, std::string>> t1, t2;
    for (int e = 0; e <= int(std::ceil(max_y)); e += std::max(1, int(std::ceil(max_y)) / 8))
      t1.push_back({double(e), e == 0 ? "0" : std::to_string((1ull << e) - 1)});
    for (int e = -20; e <= 0; e += 4) t2.push_back({double(e), e == -20 ? "0" : "1e" + std::to_string(e)});
    o += "<h2>" + esc(run_label(run)) + "</h2>\n";
    o += svg_plot("plot-steps" + (run.empty() ? "" : "-" + run), "Max distance in the tensor's own format steps (ulp / code / exponent steps), by layer and component",
                  "max steps (log)", layers, steps_s, 0, std::max(1.0, std::ceil(max_y)), t1) + "\n";
    o += svg_plot("plot-nmse" + (run.empty() ? "" : "-" + run), "NMSE by layer and component (0 drawn at the bottom)",
                  "NMSE (log10)", layers, nmse_s, -20, 0, t2) + "\n";
    const int64_t f = r.first_failure(run);
    if (f >= 0 && r.tensors[size_t(f)].grid_rows > 0) o += svg_heatmap(r.tensors[size_t(f)]) + "\n";
    if (f >= 0) {
      std::string d;
      tensor_detail(d, r.tensors[size_t(f)]);
      o += "<pre>FIRST DIVERGENCE: " + esc(with_run(r.tensors[size_t(f)])) + "\n" + esc(d) + "</pre>\n";
    }
  }

  o += "<h2>Per layer</h2>\n<table><tr><th>run</th><th>layer</th><th>tensors</th><th>bit-equal</th><th>failed</th><th>max steps</th>"
       "<th>max NMSE</th><th>worst tensor (NMSE)</th><th>first failing tensor</th></tr>\n";
  for (const LayerSummary& l : r.layers)
    o += std::string("<tr") + (l.tensors_failed ? " class=\"fail\"" : "") + "><td class=\"l\">" + esc(run_label(l.run)) +
         "</td><td>" + esc(l.layer) + "</td><td>" + std::to_string(l.tensors) + "</td><td>" + std::to_string(l.tensors_bit_equal) +
         "</td><td>" + std::to_string(l.tensors_failed) + "</td><td>" + std::to_string(l.max_steps) + "</td><td>" +
         num(l.max_nmse) + "</td><td class=\"l\">" + esc(l.worst_tensor) + "</td><td class=\"l\">" + esc(l.first_failed) +
         "</td></tr>\n";
  o += "</table>\n<h2>Tensors</h2>\n<table><tr><th>tensor</th><th>format</th><th>shape</th><th>budget</th><th>bit-equal</th>"
       "<th>max steps</th><th>NMSE</th><th>calc_diff</th><th>verdict</th></tr>\n";
  for (const TensorResult& t : r.tensors)
    o += std::string("<tr") + (t.pass ? "" : " class=\"fail\"") + "><td class=\"l\">" + esc(with_run(t)) + "</td><td>" +
         fmt_name(t.fmt) + "</td><td>" + esc(shape_text(t.shape)) + "</td><td class=\"l\">" + esc(t.rule.budget.text()) +
         " (" + esc(t.rule.reason) + ")</td><td>" + std::to_string(t.stats.bit_equal) + "/" + std::to_string(t.stats.n) +
         "</td><td>" + std::to_string(t.stats.max_steps) + "</td><td>" + num(t.stats.nmse()) + "</td><td>" +
         num(t.stats.calc_diff()) + "</td><td class=\"l\">" + (t.pass ? "ok" : esc(t.why)) + "</td></tr>\n";
  o += "</table>\n</body></html>\n";
  return o;
}

void report_write_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(long(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw golden::InputError(path, "", "cannot write the report (temporary file " + tmp + ")");
    f.write(content.data(), std::streamsize(content.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw golden::InputError(path, "", "cannot write the report");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw golden::InputError(path, "", "cannot rename the report into place");
  }
}

}  // namespace v4::compare
