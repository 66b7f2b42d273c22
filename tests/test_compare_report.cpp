// Comparator reports: the JSON report parses with an independent parser (Python's json) and carries the
// verdict at the planted coordinate; the HTML report is self-contained (no network references), its
// plots carry the planted mismatches (cells, marks, histogram bars, density cell), and it renders in a
// real browser at 1000 and 1600 px: headless Chromium screenshots it, a PNG decoder (Python zlib) counts
// the verdict banner's and the heatmap's colours, and a probe copy reports the page's scrollWidth. The
// browser tests are skipped when /usr/bin/chromium or /usr/bin/python3 is absent (CI installs chromium
// with V4ORACLE_WITH_BROWSER=1 scripts/deps.sh). Text reports: the singular for counts of one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "compare/compare.h"
#include "compare/report.h"
#include "golden/file_meta.h"
#include "golden/golden_schema.h"
#include "reference/formats.h"
#include "tests/support/temp_dir.h"

using namespace v4;
using namespace v4::golden;
using namespace v4::compare;
namespace fs = std::filesystem;

namespace {

class CompareReport : public v4::test::TempDirTest {
 protected:
  void SetUp() override {
    // 8 layers x 3 components; the candidate's ffn drifts from layer 3 on (bf16 steps growing with the
    // layer), one element of layer 3 attn flips a bit at [10, 20].
    for (const bool cand : {false, true}) {
      GoldenMeta meta;
      meta.kind = cand ? "candidate" : "golden";
      meta.name = "report-test";
      GoldenWriter w(path(cand ? "c.h5" : "g.h5"), meta);
      for (int L = 0; L < 8; ++L) {
        Tensor a = Tensor::make(Fmt::bf16, {32, 64}), f = Tensor::make(Fmt::bf16, {16, 128}), n = Tensor::make(Fmt::f32, {4, 64});
        for (int64_t i = 0; i < a.numel(); ++i) a.as<uint16_t>()[i] = bf16_encode(float((i * 37 + L) % 101) / 17.0f + 0.5f);
        for (int64_t i = 0; i < f.numel(); ++i) f.as<uint16_t>()[i] = bf16_encode(float((i * 11 + L) % 89) / 7.0f + 1.0f);
        for (int64_t i = 0; i < n.numel(); ++i) n.as<float>()[i] = float(i % 13) - 6.0f;
        if (cand && L == 3) a.as<uint16_t>()[10 * 64 + 20] ^= 0x4;
        if (cand && L >= 3)
          for (int64_t i = 0; i < f.numel(); i += 5) f.as<uint16_t>()[i] = uint16_t(f.as<uint16_t>()[i] + (L - 2));
        w.write_layer(L, "attn", "out", a);
        w.write_layer(L, "ffn", "y", f);
        w.write_layer(L, "rmsnorm", "y", n);
      }
      w.commit();
    }
    CompareOptions o;
    result_ = compare_files(path("g.h5"), path("c.h5"), o);
  }
  CompareResult result_;
};

bool have_python() { return std::system("/usr/bin/python3 -c 'import json, zlib' >/dev/null 2>&1") == 0; }

std::string run_python(const std::string& script, const std::string& dir) {
  const std::string py = dir + "/check.py", out = dir + "/check.out";
  std::ofstream(py) << script;
  const int rc = std::system(("/usr/bin/python3 " + py + " >" + out + " 2>&1").c_str());
  std::ifstream f(out);
  std::string s((std::istreambuf_iterator<char>(f)), {});
  return rc == 0 ? s : "python failed: " + s;
}

TEST_F(CompareReport, JsonParsesAndCarriesTheVerdict) {
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 absent";
  report_write_atomic(path("r.json"), report_json(result_));
  const std::string out = run_python(
      "import json\n"
      "r = json.load(open('" + path("r.json") + "'))\n"
      "assert r['schema'] == 'v4oracle-compare-report' and r['version'] == 2\n"
      "assert r['result'] == 'diverged' and r['exit_code'] == 1\n"
      "v = r['verdict']\n"
      "assert v['path'] == '/layers/3/attn/out', v\n"
      "assert v['first']['coords'] == [10, 20], v\n"
      "assert v['first']['steps'] == 4, v\n"
      "assert len(r['tensors']) == 24 and len(r['layers']) == 8\n"
      "assert [l['tensors_failed'] for l in r['layers']] == [0, 0, 0, 2, 1, 1, 1, 1]\n"
      "t = [t for t in r['tensors'] if t['path'] == '/layers/7/ffn/y'][0]\n"
      "assert t['max_steps'] == 5 and t['steps_unit'] == 'ulp (bf16)' and sum(t['steps_hist']) == 2048\n"
      "print('ok')\n",
      dir_.string());
  EXPECT_EQ(out, "ok\n");
}

TEST_F(CompareReport, JsonValuesAreNumbersAndAbsentMetadataIsNull) {
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 absent";
  // A candidate carrying only the two required root attributes: kind, name and generator are absent.
  {
    H5Reader g(path("c.h5"));
    H5Writer w(path("bare.h5"));
    w.set_root_attr(kAttrMagic, kMagic);
    w.set_root_attr(kAttrSchemaVersion, kSchemaVersion);
    for (const std::string& ds : g.datasets()) w.write(ds, g.read(ds));
    w.commit();
  }
  report_write_atomic(path("r.json"), report_json(compare_files(path("g.h5"), path("bare.h5"), CompareOptions{})));
  const std::string out = run_python(
      "import json\n"
      "r = json.load(open('" + path("r.json") + "'))\n"
      "f = r['verdict']['first']\n"
      "assert type(f['golden_value']) is float and type(f['candidate_value']) is float, f\n"
      "assert f['golden_value'] != f['candidate_value'], f\n"
      "c = r['candidate']\n"
      "assert c['kind'] is None and c['name'] is None and c['generator_version'] is None, c\n"
      "assert c['generator_commit'] is None and c['seed'] is None and c['schema_version'] == 1, c\n"
      "assert r['golden']['kind'] == 'golden' and r['policy']['file'] is None\n"
      "ok = [t for t in r['tensors'] if t['pass']][0]\n"
      "assert ok['why'] is None and ok['role'] == 'output', ok\n"
      "assert r['roles']['outputs']['tensors'] == 24 and r['roles']['inputs']['tensors'] == 0\n"
      "print('ok')\n",
      dir_.string());
  EXPECT_EQ(out, "ok\n");
}

// A single-op file: two root datasets, one layer. Golden f32 [64, 300], the candidate moves 3 elements
// by +1, +40 and +1000 ulp (the worst at [50, 280]) and flips one sign of a zero at [0, 7].
CompareResult single_op_result(const std::string& dir) {
  for (const bool cand : {false, true}) {
    GoldenMeta meta;
    meta.kind = cand ? "candidate" : "op";
    meta.name = "one-op";
    GoldenWriter w(dir + (cand ? "/c1.h5" : "/g1.h5"), meta);
    Tensor x = Tensor::make(Fmt::f32, {64, 300}), y = Tensor::make(Fmt::f32, {8});
    for (int64_t i = 0; i < x.numel(); ++i) x.as<float>()[i] = i % 300 == 7 ? 0.0f : float(1 + i % 97) * 0.37f;
    for (int64_t i = 0; i < y.numel(); ++i) y.as<float>()[i] = float(i);
    if (cand) {
      uint32_t* u = reinterpret_cast<uint32_t*>(x.as<float>());
      u[3 * 300 + 10] += 1, u[20 * 300 + 100] += 40, u[50 * 300 + 280] += 1000, u[7] ^= 0x80000000u;
    }
    w.write("/x", x);
    w.write("/y", y);
    w.commit();
  }
  return compare_files(dir + "/g1.h5", dir + "/c1.h5", CompareOptions{});
}

size_t count_of(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_F(CompareReport, HtmlIsSelfContained) {
  const std::string html = report_html(result_);
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg"), html.find("http"));  // the SVG namespace is the only URL
  for (const char* bad : {"<script", "<link", "<img", "@import", "url("}) EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_NE(html.find("id=\"plot-steps\""), std::string::npos);
  EXPECT_NE(html.find("id=\"plot-nmse\""), std::string::npos);
  // Six failing tensors (layer 3 attn and ffn, ffn of layers 4..7): the first four are plotted, two counted.
  EXPECT_EQ(count_of(html, "class=\"heatmap\""), 4u);
  EXPECT_EQ(count_of(html, "class=\"hist\""), 4u);
  EXPECT_EQ(count_of(html, "class=\"density\""), 4u);
  EXPECT_NE(html.find("2 more failing tensors of this run without plots"), std::string::npos);
}

// The plots of a single-op file carry what the data says: the per-layer plots are left out (one
// layer); the heatmap marks the first differing element (the -0 at [0, 7]: 0 steps, a grey cell) and the
// worst (+1000 ulp at [50, 280]), its colour legend runs from 1 to 1000 steps on a log2 scale; the
// histogram has bars in the buckets of 0, 1, [32, 64) and [512, 1024) steps; the density puts the
// +1000 ulp element in the cell (binade of |golden|, binade of 1000 ulp of it).
TEST_F(CompareReport, HtmlPlotsOfASingleOpFile) {
  const CompareResult r = single_op_result(dir_.string());
  ASSERT_EQ(r.tensors.size(), 2u);
  const TensorResult& t = r.tensors[0];
  ASSERT_FALSE(t.pass);
  const std::string html = report_html(r);
  EXPECT_EQ(html.find("id=\"plot-steps"), std::string::npos);
  EXPECT_NE(html.find("the per-layer plots are left out"), std::string::npos);
  EXPECT_NE(html.find(">first [0, 7]</text>"), std::string::npos);
  EXPECT_NE(html.find(">worst [50, 280]</text>"), std::string::npos);
  EXPECT_NE(html.find("fill=\"#8c8c8c\"><title>rows 0-1, cols 7-9: 1 differing element, max 0 ulp (f32)"), std::string::npos);
  EXPECT_NE(html.find(">1000</text>"), std::string::npos);  // legend end
  for (const char* bar : {"<title>0 steps: ", "<title>1 step: 1<", "<title>[32, 64) steps: 1<", "<title>[512, 1024) steps: 1<"})
    EXPECT_NE(html.find(bar), std::string::npos) << bar;
  EXPECT_EQ(html.find("<title>[2, 4) steps"), std::string::npos);
  // Independent of the comparator: the value at [50, 280] and its +1000 ulp neighbour.
  const float g = float(1 + (50 * 300 + 280) % 97) * 0.37f;
  uint32_t u;
  std::memcpy(&u, &g, 4);
  u += 1000;
  float c;
  std::memcpy(&c, &u, 4);
  // Binade labels as the plot writes them: 1, 2, ..., 65536, otherwise 2^e.
  const auto label = [](int e) { return e >= 0 && e <= 16 ? std::to_string(1 << e) : "2^" + std::to_string(e); };
  const int gb = std::ilogb(g), eb = std::ilogb(c - g);
  const std::string cell = "|golden| in [" + label(gb) + ", " + label(gb + 1) + "), error in [" + label(eb) + ", " + label(eb + 1) + "): 1<";
  EXPECT_NE(html.find(cell), std::string::npos) << cell;
}

// Counts of one take the singular: a file of one one-element tensor, compared with itself and with a
// candidate one ulp off. Before, the reports said "1 tensors within policy" and "of 1 elements".
TEST_F(CompareReport, TextReportsUseTheSingularForOne) {
  for (const bool cand : {false, true}) {
    GoldenMeta meta;
    meta.kind = cand ? "candidate" : "op";
    GoldenWriter w(path(cand ? "c1.h5" : "g1.h5"), meta);
    Tensor x = Tensor::make(Fmt::f32, {1});
    x.as<float>()[0] = cand ? std::nextafter(1.5f, 2.0f) : 1.5f;
    w.write("/x", x);
    w.commit();
  }
  const std::string ok = report_text(compare_files(path("g1.h5"), path("g1.h5"), CompareOptions{}));
  EXPECT_NE(ok.find("OK: 1 tensor within policy (outputs: 1 element in 1 tensor, 100% bit-equal)"), std::string::npos) << ok;
  const std::string bad = report_text(compare_files(path("g1.h5"), path("c1.h5"), CompareOptions{}));
  EXPECT_NE(bad.find("bitwise: 1 of 1 element differs (max 1 ulp (f32))"), std::string::npos) << bad;
  EXPECT_NE(bad.find("; 1 of 1 tensor over policy"), std::string::npos) << bad;
  for (const std::string& t : {ok, bad})
    for (const char* wrong : {" 1 elements", " 1 tensors", " 1 rows", " 1 datasets", " 1 code flips", " 1 steps"})
      EXPECT_EQ(t.find(wrong), std::string::npos) << wrong << " in:\n" << t;
}

namespace {

// Renders `html_path` in headless Chromium `width` px wide and returns "W H banner heat white_ok" from the
// PNG (decoded by Python zlib, not by the project), and the page's scrollWidth read by a probe copy of
// the page (the report itself carries no script): a copy with one inline script that writes
// document.documentElement.scrollWidth into the title, dumped with --dump-dom.
struct Shot {
  std::string png_stats;
  int scroll_width = -1;
};
Shot screenshot(const std::string& html_path, const std::string& dir, int width) {
  const std::string png = dir + "/r" + std::to_string(width) + ".png", profile = dir + "/profile";
  const std::string flags = "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                            "--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars "
                            "--user-data-dir=" + profile + " --window-size=" + std::to_string(width) + ",2000 ";
  Shot s;
  if (std::system((flags + "--screenshot=" + png + " file://" + html_path + " >/dev/null 2>&1").c_str()) != 0 || !fs::exists(png))
    return s;
  std::ifstream in(html_path);
  std::string page((std::istreambuf_iterator<char>(in)), {});
  page.insert(page.rfind("</body>"),
              "<script>document.title = 'scrollWidth=' + document.documentElement.scrollWidth + ';';</script>");
  const std::string probe = dir + "/probe.html", dom = dir + "/dom.txt";
  std::ofstream(probe) << page;
  std::system((flags + "--dump-dom file://" + probe + " >" + dom + " 2>/dev/null").c_str());
  std::ifstream d(dom);
  const std::string dumped((std::istreambuf_iterator<char>(d)), {});
  const size_t at = dumped.find("<title>scrollWidth=");
  if (at != std::string::npos) s.scroll_width = std::atoi(dumped.c_str() + at + 19);
  s.png_stats = run_python(
      "import struct, zlib\n"
      "d = open('" + png + "', 'rb').read()\n"
      "assert d[:8] == b'\\x89PNG\\r\\n\\x1a\\n'\n"
      "pos, idat = 8, b''\n"
      "while pos < len(d):\n"
      "    n, typ = struct.unpack('>I4s', d[pos:pos + 8]); body = d[pos + 8:pos + 8 + n]; pos += 12 + n\n"
      "    if typ == b'IHDR': w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', body)\n"
      "    if typ == b'IDAT': idat += body\n"
      "assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)\n"
      "bpp = 3 if ctype == 2 else 4\n"
      "raw, stride, prev, rows = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []\n"
      "for y in range(h):\n"
      "    f = raw[y * (stride + 1)]; line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])\n"
      "    for i in range(stride):\n"
      "        a = line[i - bpp] if i >= bpp else 0; b = prev[i]; c = prev[i - bpp] if i >= bpp else 0\n"
      "        if f == 1: line[i] = (line[i] + a) & 255\n"
      "        elif f == 2: line[i] = (line[i] + b) & 255\n"
      "        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255\n"
      "        elif f == 4:\n"
      "            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)\n"
      "            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255\n"
      "    rows.append(line); prev = line\n"
      "px = [(r[x * bpp], r[x * bpp + 1], r[x * bpp + 2]) for r in rows for x in range(w)]\n"
      "near = lambda p, q: all(abs(p[k] - q[k]) <= 6 for k in range(3))\n"
      "banner = sum(1 for p in px if near(p, (0xcf, 0x22, 0x2e)))\n"
      "heat = sum(1 for p in px if p[0] > 200 and 40 < p[1] < 220 and p[2] < 110)\n"  // the scale's orange-to-red range
      "white = sum(1 for p in px if min(p) > 250)\n"
      "print(w, h, banner > 20000, heat > 500, white < w * h * 0.97)\n",
      dir);
  return s;
}

}  // namespace

// Chromium renders the page at 1000 and 1600 px: the PNG has the window's size, the red verdict banner
// (#cf222e) and the heatmap's orange-red cells show up as pixels (a blank or unstyled page has neither),
// and nothing is wider than the window (no horizontal scrollbar).
TEST_F(CompareReport, HtmlRendersInHeadlessChromiumAtTwoWidths) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium absent (V4ORACLE_WITH_BROWSER=1 scripts/deps.sh)";
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 absent";
  const std::string html = path("r.html");
  report_write_atomic(html, report_html(result_));
  for (const int width : {1000, 1600}) {
    const Shot s = screenshot(html, dir_.string(), width);
    EXPECT_EQ(s.png_stats, std::to_string(width) + " 2000 True True True\n") << "width " << width << ", " << dir_;
    EXPECT_GT(s.scroll_width, 0) << "width " << width;
    EXPECT_LE(s.scroll_width, width) << "the page overflows at " << width << " px";
  }
}
