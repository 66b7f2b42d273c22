// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network), so it renders
// offline in any browser: the verdict banner, per run log-scaled per-layer series of max distance and
// NMSE per component, the downsampled mismatch heatmap and detail of the run's first divergence, then
// per-layer and per-tensor tables.
#include <algorithm>

#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::compare {

namespace {

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
            if (fmt_info(t.fmt).kind != FmtKind::integer) nm = std::max(nm, t.stats.nmse());
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
         fmt_name(t.fmt) + "</td><td>" + esc(shape_str(t.shape)) + "</td><td class=\"l\">" + esc(t.rule.budget.text()) +
         " (" + esc(t.rule.reason) + ")</td><td>" + std::to_string(t.stats.bit_equal) + "/" + std::to_string(t.stats.n) +
         "</td><td>" + std::to_string(t.stats.max_steps) + "</td><td>" + num(t.stats.nmse()) + "</td><td>" +
         num(t.stats.calc_diff()) + "</td><td class=\"l\">" + (t.pass ? "ok" : esc(t.why)) + "</td></tr>\n";
  o += "</table>\n</body></html>\n";
  return o;
}

}  // namespace v4::compare
