// Comparator reports: the JSON report parses with an independent parser (Python's json) and carries the
// verdict at the planted coordinate; the HTML report is self-contained (no network references) and
// renders in a real browser: headless Chromium screenshots it, and a PNG decoder (Python zlib) counts
// the verdict banner's colour and the plot series' colour. Skipped when /usr/bin/chromium or
// /usr/bin/python3 is absent (CI installs chromium with V4ORACLE_WITH_BROWSER=1 scripts/deps.sh).
#include <gtest/gtest.h>

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

}  // namespace

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

TEST_F(CompareReport, HtmlIsSelfContained) {
  const std::string html = report_html(result_);
  EXPECT_EQ(html.find("http://www.w3.org/2000/svg"), html.find("http"));  // the SVG namespace is the only URL
  for (const char* bad : {"<script", "<link", "<img", "@import", "url("}) EXPECT_EQ(html.find(bad), std::string::npos) << bad;
  EXPECT_NE(html.find("id=\"plot-steps\""), std::string::npos);
  EXPECT_NE(html.find("id=\"plot-nmse\""), std::string::npos);
  EXPECT_NE(html.find("id=\"heatmap\""), std::string::npos);
}

// Chromium renders the page: the red verdict banner (#cf222e) and the first plot series (#1f77b4) show up
// as pixels in the screenshot; a blank or unstyled page has neither.
TEST_F(CompareReport, HtmlRendersInHeadlessChromium) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium absent (apt-get install chromium)";
  if (!have_python()) GTEST_SKIP() << "/usr/bin/python3 absent";
  const std::string html = path("r.html"), png = path("r.png"), profile = path("profile");
  report_write_atomic(html, report_html(result_));
  const std::string cmd = "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                          "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=" +
                          profile + " --screenshot=" + png + " --window-size=1200,900 file://" + html + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(fs::exists(png));
  const std::string out = run_python(
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
      "def count(rgb, tol=6):\n"
      "    return sum(1 for r in rows for x in range(w) if all(abs(r[x * bpp + k] - rgb[k]) <= tol for k in range(3)))\n"
      "banner, series = count((0xcf, 0x22, 0x2e)), count((0x1f, 0x77, 0xb4))\n"
      "white = sum(1 for r in rows for x in range(w) if r[x * bpp] > 250 and r[x * bpp + 1] > 250 and r[x * bpp + 2] > 250)\n"
      "print(w, h, banner > 20000, series > 300, white < w * h * 0.97)\n",
      dir_.string());
  EXPECT_EQ(out, "1200 900 True True True\n") << "screenshot " << png;
}
