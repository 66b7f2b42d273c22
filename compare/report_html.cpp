// The HTML report: one self-contained page (inline CSS and SVG, no scripts, no network), so it renders
// offline in any browser, fluid from 1000 px wide: the verdict banner; per run the log-scaled per-layer
// series of max distance and NMSE per component (left out for a file of one layer); for each of the
// first kPlottedFailures failing tensors its mismatch heatmap (colour by max distance per cell, log2
// legend, element-coordinate ticks, first and worst element marked), its distance histogram and its
// error-against-|golden| density; the run's first divergence in detail; per-layer and per-tensor tables.
// docs/compare.md §Reports states the binning.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "compare/report.h"
#include "compare/report_common.h"

namespace v4::compare {

namespace {

// Sequential colour scale for t in [0, 1] (ColorBrewer YlOrRd, 5 classes, interpolated in RGB): light
// yellow for the smallest value, dark red for the largest.
std::string scale_colour(double t) {
  static const int stops[5][3] = {{0xff, 0xff, 0xb2}, {0xfe, 0xcc, 0x5c}, {0xfd, 0x8d, 0x3c}, {0xf0, 0x3b, 0x20}, {0xbd, 0x00, 0x26}};
  const double u = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(3, int(u));
  const double f = u - i;
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", int(std::lround(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]))),
                int(std::lround(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]))),
                int(std::lround(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]))));
  return buf;
}

// Position in [0, 1] of v on a log2 scale from 1 to vmax (v, vmax >= 1).
double log_pos(double v, double vmax) { return vmax <= 1 ? 1.0 : std::log2(v) / std::log2(vmax); }

// "1", "2", ..., "65536", else "2^17", "2^-3", ...
std::string pow2_text(int e) { return e >= 0 && e <= 16 ? std::to_string(1 << e) : "2^" + std::to_string(e); }

std::string svg_open(const std::string& id, const std::string& cls, int w, int h) {
  return "<svg id=\"" + id + "\" class=\"" + cls + "\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(w) +
         "\" height=\"" + std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
         "\"><rect x=\"0\" y=\"0\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) + "\" fill=\"#ffffff\"/>";
}
std::string svg_text(double x, double y, const std::string& s, int size, const char* anchor = "start", const std::string& extra = "") {
  return "<text x=\"" + fmtf("%.1f", x) + "\" y=\"" + fmtf("%.1f", y) + "\" font-size=\"" + std::to_string(size) +
         "\" text-anchor=\"" + anchor + "\"" + extra + ">" + esc(s) + "</text>";
}
std::string svg_rect(double x, double y, double w, double h, const std::string& fill, const std::string& extra = "") {
  return "<rect x=\"" + fmtf("%.1f", x) + "\" y=\"" + fmtf("%.1f", y) + "\" width=\"" + fmtf("%.2f", w) + "\" height=\"" +
         fmtf("%.2f", h) + "\" fill=\"" + fill + "\"" + extra + "/>";
}
std::string svg_line(double x1, double y1, double x2, double y2, const char* stroke, const std::string& extra = "") {
  return "<line x1=\"" + fmtf("%.1f", x1) + "\" y1=\"" + fmtf("%.1f", y1) + "\" x2=\"" + fmtf("%.1f", x2) + "\" y2=\"" +
         fmtf("%.1f", y2) + "\" stroke=\"" + stroke + "\"" + extra + "/>";
}
// A horizontal colour legend: the scale from lo to hi at (x, y), `w` wide, ticks at (position, label).
std::string svg_legend(double x, double y, double w, const std::string& title, const std::vector<std::pair<double, std::string>>& ticks) {
  std::string o = svg_text(x, y - 4, title, 11);
  const int n = 40;
  for (int i = 0; i < n; ++i) o += svg_rect(x + w * i / n, y, w / n + 0.5, 10, scale_colour((i + 0.5) / n));
  o += svg_rect(x, y, w, 10, "none", " stroke=\"#888\"");
  for (const auto& [pos, label] : ticks) {
    o += svg_line(x + w * pos, y + 10, x + w * pos, y + 14, "#444");
    o += svg_text(x + w * pos, y + 24, label, 10, "middle");
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
  std::string o = svg_open(id, "layers", W, H);
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

// The mismatch heatmap of one tensor (GridMap cells): colour by the cell's max distance on a log2 scale,
// grey where only bits differ at distance 0, black for NaN/inf class mismatches; row and column ticks in
// element coordinates of the [rows, last dim] view; the first and worst mismatches marked.
std::string svg_heatmap(const TensorResult& t, const std::string& id) {
  const GridMap gm(t.shape, t.grid_rows, t.grid_cols);
  const int L = 80, T = 34, PW = 880, PH = std::clamp(t.grid_rows * 10, 120, 320), W = L + PW + 30, H = T + PH + 110;
  const double cw = double(PW) / gm.cells_c, ch = double(PH) / gm.cells_r;
  uint64_t maxs = 1;
  for (uint64_t v : t.grid_max)
    if (v != UINT64_MAX) maxs = std::max(maxs, v);
  std::string o = svg_open(id, "heatmap", W, H);
  o += svg_text(L, 18, "Mismatch heatmap: " + with_run(t) + ", " + shape_str(t.shape) + " as [" + std::to_string(gm.rows) + ", " +
                           std::to_string(gm.cols) + "] in " + std::to_string(gm.cells_r) + " x " + std::to_string(gm.cells_c) +
                           " cells; colour = max distance in the cell",
                14, "start", " font-weight=\"bold\"");
  o += svg_rect(L, T, PW, PH, "#f6f8fa", " stroke=\"#888\"");
  const std::string unit = steps_unit(t.fmt);
  for (int r = 0; r < gm.cells_r; ++r)
    for (int c = 0; c < gm.cells_c; ++c) {
      const size_t k = size_t(r) * size_t(gm.cells_c) + size_t(c);
      const int64_t n = t.grid_count[k];
      if (!n) continue;
      const uint64_t m = t.grid_max[k];
      const std::string fill = m == UINT64_MAX ? "#000000" : m == 0 ? "#8c8c8c" : scale_colour(log_pos(double(m), double(maxs)));
      const std::string what = m == UINT64_MAX ? "NaN/inf class mismatch" : "max " + std::to_string(m) + " " + unit;
      o += svg_rect(L + c * cw, T + r * ch, cw, ch, fill,
                    "><title>rows " + std::to_string(gm.row_start(r)) + "-" + std::to_string(gm.row_start(r + 1) - 1) + ", cols " +
                        std::to_string(gm.col_start(c)) + "-" + std::to_string(gm.col_start(c + 1) - 1) + ": " + std::to_string(n) +
                        (n == 1 ? " differing element, " : " differing elements, ") + esc(what) + "</title></rect");
    }
  // Ticks at band starts (element coordinates), about 8 rows and 12 columns, and the end.
  const auto ticks_at = [](int cells, int want) {
    std::vector<int> v;
    const int step = std::max(1, (cells + want - 1) / want);
    for (int k = 0; k < cells; k += step)
      if (k == 0 || cells - k >= step / 2) v.push_back(k);
    v.push_back(cells);
    return v;
  };
  for (int r : ticks_at(gm.cells_r, 8)) {
    o += svg_line(L - 5, T + r * ch, L, T + r * ch, "#444");
    o += svg_text(L - 8, T + r * ch + 4, std::to_string(r == gm.cells_r ? gm.rows : gm.row_start(r)), 10, "end");
  }
  for (int c : ticks_at(gm.cells_c, 12)) {
    o += svg_line(L + c * cw, T + PH, L + c * cw, T + PH + 5, "#444");
    o += svg_text(L + c * cw, T + PH + 16, std::to_string(c == gm.cells_c ? gm.cols : gm.col_start(c)), 10, "middle");
  }
  o += svg_text(L + PW / 2.0, T + PH + 30, "column (last dim index)", 11, "middle");
  o += svg_text(16, T + PH / 2.0, "row (flat index over the other dims)", 11, "middle",
                " transform=\"rotate(-90 16 " + fmtf("%.1f", T + PH / 2.0) + ")\"");
  // The first and worst mismatching elements: rings on their cells, labels with coordinates.
  const auto mark = [&](int64_t flat, const char* col, const std::string& label, double dy) {
    if (flat < 0) return;
    const size_t k = gm.cell(flat);
    const double cx = L + (double(k % size_t(gm.cells_c)) + 0.5) * cw, cy = T + (double(k / size_t(gm.cells_c)) + 0.5) * ch;
    const double rad = std::max(5.0, std::max(cw, ch) * 0.8);
    o += "<circle class=\"mark\" cx=\"" + fmtf("%.1f", cx) + "\" cy=\"" + fmtf("%.1f", cy) + "\" r=\"" + fmtf("%.1f", rad) +
         "\" fill=\"none\" stroke=\"" + col + "\" stroke-width=\"2.5\"/>";
    const bool right = cx < L + PW * 0.7;
    o += svg_text(right ? cx + rad + 3 : cx - rad - 3, std::clamp(cy + dy, double(T + 10), double(T + PH - 2)), label, 11,
                  right ? "start" : "end", " font-weight=\"bold\" fill=\"" + std::string(col) +
                                               "\" stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\"");
  };
  const int64_t worst = t.stats.worst.index;
  if (worst == t.first_index) {
    mark(worst, "#0050b3", "first = worst " + coords_text(t.shape, worst), 4);
  } else {
    mark(worst, "#6a00a8", "worst " + coords_text(t.shape, worst), 12);
    mark(t.first_index, "#0050b3", "first " + coords_text(t.shape, t.first_index), -6);
  }
  // Legend: the log2 colour scale from 1 step to the largest, then the special colours.
  std::vector<std::pair<double, std::string>> ticks;
  const int emax = int(std::floor(std::log2(double(maxs))));
  const int es = std::max(1, (emax + 7) / 8);
  for (int e = 0; e <= emax; e += es) ticks.push_back({log_pos(std::ldexp(1.0, e), double(maxs)), pow2_text(e)});
  if (maxs == 1) {
    ticks = {{1.0, "1"}};  // every differing element 1 step away: one colour
  } else if (double(maxs) != std::ldexp(1.0, emax) || ticks.size() == 1) {
    if (ticks.size() > 1 && ticks.back().first > 0.85) ticks.pop_back();  // keep the end label legible
    ticks.push_back({1.0, std::to_string(maxs)});
  }
  const double ly = T + PH + 56;
  o += svg_legend(L, ly, 300, "max distance in the cell, " + unit + " (log2 scale)", ticks);
  o += svg_rect(L + 330, ly, 12, 10, "#8c8c8c") + svg_text(L + 346, ly + 9, "bits differ, distance 0 (-0/+0, NaN payload)", 10);
  o += svg_rect(L + 330, ly + 16, 12, 10, "#000000") + svg_text(L + 346, ly + 25, "NaN/inf class mismatch", 10);
  o += svg_rect(L + 620, ly, 12, 10, "#f6f8fa", " stroke=\"#888\"") + svg_text(L + 636, ly + 9, "no differing element", 10);
  o += "<circle cx=\"" + std::to_string(L + 626) + "\" cy=\"" + fmtf("%.1f", ly + 21) + "\" r=\"5\" fill=\"none\" stroke=\"#0050b3\" stroke-width=\"2\"/>" +
       svg_text(L + 636, ly + 25, "first", 10) + "<circle cx=\"" + std::to_string(L + 686) + "\" cy=\"" + fmtf("%.1f", ly + 21) +
       "\" r=\"5\" fill=\"none\" stroke=\"#6a00a8\" stroke-width=\"2\"/>" + svg_text(L + 696, ly + 25, "worst", 10);
  return o + "</svg>";
}

// Vertical log10 axis from 10^lo to 10^hi at x = L over [T, T + PH]; returns the y of a count.
struct LogAxis {
  double lo, hi, T, PH;
  double y(double v) const { return T + PH * (1.0 - (std::log10(v) - lo) / (hi - lo)); }
};

// The distance histogram of one tensor as bars (kUlpBuckets buckets: 0, 1, [2, 4), ...; log count axis),
// plus a bar for NaN/inf class mismatches when there are any.
std::string svg_histogram(const TensorResult& t, const std::string& id) {
  const TensorStats& s = t.stats;
  int last = 1;
  int64_t maxc = std::max<int64_t>(1, s.nonfinite_mismatch);
  for (int b = 0; b < kUlpBuckets; ++b)
    if (s.steps_hist[size_t(b)]) last = std::max(last, b), maxc = std::max(maxc, s.steps_hist[size_t(b)]);
  const int nbars = last + 1 + (s.nonfinite_mismatch ? 1 : 0);
  const int L = 64, T = 34, PW = 440, PH = 200, W = L + PW + 16, H = T + PH + 52;
  const LogAxis ax{std::log10(0.5), std::max(1.0, std::ceil(std::log10(double(maxc)))), double(T), double(PH)};
  std::string o = svg_open(id, "hist", W, H);
  o += svg_text(L, 18, "Distance histogram: " + with_run(t), 13, "start", " font-weight=\"bold\"");
  o += svg_rect(L, T, PW, PH, "#f6f8fa", " stroke=\"#888\"");
  for (int e = 0; e <= int(ax.hi); ++e) {
    const double y = ax.y(std::pow(10.0, e));
    o += svg_line(L, y, L + PW, y, "#ddd");
    o += svg_text(L - 6, y + 4, e < 4 ? std::to_string(int(std::pow(10, e))) : "1e" + std::to_string(e), 10, "end");
  }
  const double bw = double(PW) / nbars;
  const int lstep = std::max(1, (nbars + 11) / 12);
  for (int b = 0; b < nbars; ++b) {
    const bool cls = b > last;
    const int64_t c = cls ? s.nonfinite_mismatch : s.steps_hist[size_t(b)];
    const std::string label = cls ? "NaN/inf" : b == 0 ? "0" : pow2_text(b - 1);
    const std::string range = cls ? "NaN/inf class mismatch"
                              : b <= 1 ? std::string(b == 0 ? "0 steps" : "1 step")
                                       : "[" + pow2_text(b - 1) + ", " + pow2_text(b) + ") steps";
    if (c) {
      const double y = ax.y(double(c));
      o += svg_rect(L + b * bw + 1, y, std::max(1.0, bw - 2), T + PH - y, cls ? "#000000" : b == 0 ? "#8c8c8c" : "#f03b20",
                    "><title>" + esc(range) + ": " + std::to_string(c) + "</title></rect");
    }
    if (b % lstep == 0 || cls) o += svg_text(L + (b + 0.5) * bw, T + PH + 14, label, 10, "middle");
  }
  o += svg_text(L + PW / 2.0, H - 8, "distance, " + steps_unit(t.fmt) + " (bucket lower edge: 0, 1, [2,4), [4,8), ...)", 11, "middle");
  o += svg_text(14, T + PH / 2.0, "elements (log)", 11, "middle", " transform=\"rotate(-90 14 " + fmtf("%.1f", T + PH / 2.0) + ")\"");
  return o + "</svg>";
}

// |candidate - golden| against |golden| (ErrorDensity binades, both axes log2): cells coloured by count
// on a log scale, with lines of constant relative error 1, 2^-8 and 2^-24.
std::string svg_density(const TensorResult& t, const ErrorDensity& d, const std::string& id) {
  const int L = 64, T = 34, PW = 400, PH = 260, W = L + PW + 70, H = T + PH + 84;
  const double cw = double(PW) / d.nx, ch = double(PH) / d.ny;
  int64_t maxc = 1;
  for (int64_t v : d.count) maxc = std::max(maxc, v);
  const auto bin_text = [](int b) { return b == 0 ? std::string("0") : b == 255 ? std::string("inf") : pow2_text(b - 127); };
  std::string o = svg_open(id, "density", W, H);
  o += svg_text(L, 18, "|candidate - golden| vs |golden|: " + with_run(t), 13, "start", " font-weight=\"bold\"");
  o += svg_rect(L, T, PW, PH, "#f6f8fa", " stroke=\"#888\"");
  for (int y = d.y0; y < d.y0 + d.ny; ++y)
    for (int x = d.x0; x < d.x0 + d.nx; ++x) {
      const int64_t c = d.at(x, y);
      if (!c) continue;
      o += svg_rect(L + (x - d.x0) * cw, T + PH - (y - d.y0 + 1) * ch, cw, ch, scale_colour(maxc == 1 ? 1.0 : std::log10(double(c)) / std::log10(double(maxc))),
                    "><title>|golden| in [" + bin_text(x) + ", " + bin_text(x + 1) + "), error in [" + bin_text(y) + ", " +
                        bin_text(y + 1) + "): " + std::to_string(c) + "</title></rect");
    }
  // Relative error guides: error binade = golden binade - k, drawn across the box where inside it.
  for (const auto& [k, label] : std::vector<std::pair<int, std::string>>{{0, "rel 1"}, {8, "rel 2^-8"}, {24, "rel 2^-24"}}) {
    const double xa = std::max(double(d.x0), double(d.y0 + k)), xb = std::min(double(d.x0 + d.nx), double(d.y0 + d.ny + k));
    if (xa >= xb) continue;
    const auto px = [&](double x) { return L + (x - d.x0) * cw; };
    const auto py = [&](double y) { return T + PH - (y - d.y0) * ch; };
    o += svg_line(px(xa), py(xa - k), px(xb), py(xb - k), "#0050b3", " stroke-dasharray=\"4 3\"");
    o += svg_text(px(xb) + 2, py(xb - k) + 4, label, 10, "start", " fill=\"#0050b3\"");
  }
  const int xs = std::max(1, (d.nx + 7) / 8), ys = std::max(1, (d.ny + 7) / 8);
  for (int x = 0; x <= d.nx; x += xs) o += svg_text(L + x * cw, T + PH + 14, bin_text(d.x0 + x), 10, "middle");
  for (int y = 0; y <= d.ny; y += ys) o += svg_text(L - 6, T + PH - y * ch + 4, bin_text(d.y0 + y), 10, "end");
  o += svg_text(L + PW / 2.0, T + PH + 30, "|golden| (binade lower edge, log2)", 11, "middle");
  o += svg_text(14, T + PH / 2.0, "|candidate - golden| (log2)", 11, "middle",
                " transform=\"rotate(-90 14 " + fmtf("%.1f", T + PH / 2.0) + ")\"");
  std::vector<std::pair<double, std::string>> ticks{{0.0, "1"}};
  if (maxc > 1) ticks.push_back({1.0, std::to_string(maxc)});
  o += svg_legend(L, T + PH + 52, 200, "pairs per cell (log scale); " + std::to_string(d.zero_err) + " equal values not drawn", ticks);
  return o + "</svg>";
}

// A failing tensor's plots: heatmap, then the histogram and (floats) the error density side by side.
std::string tensor_plots(const TensorResult& t, int n) {
  const std::string sfx = "-" + std::to_string(n);
  std::string o = "<h3>" + esc(with_run(t)) + "</h3>\n";
  if (t.grid_rows > 0) o += "<div class=\"plot\">" + svg_heatmap(t, "heatmap" + sfx) + "</div>\n";
  o += "<div class=\"plots\"><div class=\"plot\">" + svg_histogram(t, "hist" + sfx) + "</div>";
  if (t.density && fmt_info(t.fmt).kind != FmtKind::integer)
    o += "<div class=\"plot\">" + svg_density(t, *t.density, "density" + sfx) + "</div>";
  return o + "</div>\n";
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
      "white-space:pre-wrap;overflow-wrap:anywhere}h2{font-size:16px;margin-top:20px}h3{font-size:14px;margin:16px 0 4px}"
      // Fluid: every SVG scales down to its container (viewBox), tables wrap long paths, nothing is
      // wider than the window from 1000 px on.
      "svg{display:block;max-width:100%;height:auto}.plots{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:flex-start}"
      ".plots .plot{flex:1 1 420px;min-width:0;max-width:620px}.plots svg{width:100%}"
      "td.l{overflow-wrap:anywhere}table{max-width:100%}.note{font-size:13px;color:#57606a}</style></head><body>\n";
  o += "<div id=\"verdict\" class=\"" + std::string(v < 0 ? "ok" : "bad") + "\">" + esc(report_summary_line(r)) + "</div>\n";
  o += "<div>golden: " + esc(meta_text(r.golden_path, r.golden_meta)) + "<br>candidate: " +
       esc(meta_text(r.candidate_path, r.candidate_meta)) + "</div>\n";

  int plots = 0;  // failing tensors plotted so far (element ids heatmap-N, hist-N, density-N)
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
    if (layers.size() > 1) {
      o += "<div class=\"plot\">" + svg_plot("plot-steps" + (run.empty() ? "" : "-" + run), "Max distance in the tensor's own format steps (ulp / code / exponent steps), by layer and component",
                  "max steps (log)", layers, steps_s, 0, std::max(1.0, std::ceil(max_y)), t1) + "</div>\n";
      o += "<div class=\"plot\">" + svg_plot("plot-nmse" + (run.empty() ? "" : "-" + run), "NMSE by layer and component (0 drawn at the bottom)",
                  "NMSE (log10)", layers, nmse_s, -20, 0, t2) + "</div>\n";
    } else {
      o += "<p class=\"note\">One layer (" + esc(layers.empty() ? std::string("none") : layers[0]) +
           "): the per-layer plots are left out.</p>\n";
    }
    int unplotted = 0;
    for (const TensorResult& t : r.tensors)
      if (t.run == run && !t.pass && (t.grid_rows > 0 || t.density)) o += tensor_plots(t, ++plots);
      else if (t.run == run && !t.pass) ++unplotted;
    if (unplotted)
      o += "<p class=\"note\">" + std::to_string(unplotted) + (unplotted == 1 ? " more failing tensor" : " more failing tensors") +
           " of this run without plots (the first " + std::to_string(kPlottedFailures) + " are plotted; see the table).</p>\n";
    const int64_t f = r.first_failure(run);
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
