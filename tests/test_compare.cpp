// The comparator (compare/): planted faults at known places are reported at exactly that tensor and
// coordinate; format-aware metrics against a plain long-double recomputation; top-k tie flips, scale
// mismatches, rounding-tie flips, NaN accounting; policies and policy files; teacher-forced and
// free-running runs; determinism over thread counts and chunk sizes; bad input -> InputError / exit 2
// with no report file. Expected values come from the test's own construction (which element was
// changed, by how much), never from the comparator's output.
#include <gtest/gtest.h>
#include <omp.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>

#include "compare/compare.h"
#include "compare/report.h"
#include "compare/report_common.h"
#include "golden/file_meta.h"
#include "golden/golden_schema.h"
#include "reference/formats.h"
#include "tests/support/temp_dir.h"

using namespace v4;
using namespace v4::golden;
using namespace v4::compare;
namespace fs = std::filesystem;

namespace {

// ---- a small deterministic model: 6 layers, every format, links ----

struct Item {
  std::string path;
  Tensor t;
  TensorAttrs attrs;
  TensorLinks links;
};
using Model = std::vector<Item>;

struct Lcg {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(s >> 33);
  }
  float uniform(float lo, float hi) { return lo + (hi - lo) * float(next() & 0xFFFFFF) / float(0x1000000); }
};

constexpr int kLayers = 6, kTopK = 16, kScores = 64, kScoreRows = 8;

// Reference top-k for the test: sort (score desc, index asc), take k (design.md §3).
std::vector<int32_t> topk_row(const float* s, int n, int k) {
  std::vector<int32_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return s[a] > s[b]; });
  idx.resize(size_t(k));
  return idx;
}

Model make_model(uint64_t seed) {
  Lcg r{seed};
  Model m;
  for (int L = 0; L < kLayers; ++L) {
    Tensor out = Tensor::make(Fmt::bf16, {64, 96});
    for (int64_t i = 0; i < out.numel(); ++i) out.as<uint16_t>()[i] = bf16_encode(r.uniform(-2, 2));
    m.push_back({golden_layer_path(L, "attn", "out"), out, {}, {}});
    Tensor h = Tensor::make(Fmt::f32, {33, 50});
    for (int64_t i = 0; i < h.numel(); ++i) h.as<float>()[i] = r.uniform(-3, 3);
    m.push_back({golden_layer_path(L, "ffn", "h"), h, {}, {}});
    // act_quant: source x (bf16), codes q (e4m3fn) with ue8m0 scales s, blocks [1, 128]. Scale codes are
    // fixed (127 -> 1.0 for block 0, 126 -> 0.5 for block 1) so the test knows x / s exactly.
    Tensor x = Tensor::make(Fmt::bf16, {16, 256}), q = Tensor::make(Fmt::e4m3fn, {16, 256}), s = Tensor::make(Fmt::ue8m0, {16, 2});
    for (int64_t i = 0; i < x.numel(); ++i) x.as<uint16_t>()[i] = bf16_encode(r.uniform(-4, 4));
    x.as<uint16_t>()[130] = bf16_encode(1.0625f);  // [0, 130]: 1.0625 / 0.5 = 2.125, the e4m3 midpoint of 2 and 2.25
    for (int row = 0; row < 16; ++row) s.as<uint8_t>()[row * 2] = 127, s.as<uint8_t>()[row * 2 + 1] = 126;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const float sv = ue8m0_decode(s.as<uint8_t>()[(i / 256) * 2 + (i % 256) / 128]);
      q.as<uint8_t>()[i] = fp8_e4m3_encode(bf16_decode(x.as<uint16_t>()[i]) / sv, Sat::satfinite);
    }
    const std::string xp = golden_layer_path(L, "act_quant", "x"), sp = golden_layer_path(L, "act_quant", "s");
    m.push_back({xp, x, {}, {}});
    m.push_back({golden_layer_path(L, "act_quant", "q"), q, {sp, {1, 128}}, {"", "", xp}});
    m.push_back({sp, s, {}, {}});
    // indexer: scores f32 [8, 64] and top-16 indices. Row 3: two equal top scores (indices 10 and 20).
    // Row 5: a tie at the selection boundary (indices 7 and 40 both 5.0; 7 is selected, 40 is not).
    Tensor sc = Tensor::make(Fmt::f32, {kScoreRows, kScores}), tk = Tensor::make(Fmt::i32, {kScoreRows, kTopK});
    float* S = sc.as<float>();
    for (int64_t i = 0; i < sc.numel(); ++i) S[i] = r.uniform(0, 1);
    S[3 * kScores + 10] = S[3 * kScores + 20] = 100.0f;
    for (int j = 0; j < 15; ++j) S[5 * kScores + 41 + j] = 10.0f + float(j);
    S[5 * kScores + 7] = S[5 * kScores + 40] = 5.0f;
    for (int row = 0; row < kScoreRows; ++row) {
      const std::vector<int32_t> t = topk_row(S + row * kScores, kScores, kTopK);
      std::copy(t.begin(), t.end(), tk.as<int32_t>() + row * kTopK);
    }
    const std::string scp = golden_layer_path(L, "indexer", "scores");
    m.push_back({scp, sc, {}, {}});
    m.push_back({golden_layer_path(L, "indexer", "topk"), tk, {}, {kKindTopkIndices, scp, ""}});
    // fp4 weights with an odd last dim (each row ends in a padding nibble).
    Tensor w = Tensor::make(Fmt::e2m1x2, {5, 7});
    for (int row = 0; row < 5; ++row)
      for (int c = 0; c < 7; ++c) fp4_e2m1_set(w.data.data() + row * fp4_e2m1_row_bytes(7), c, uint8_t(r.next() & 0xF));
    m.push_back({golden_layer_path(L, "fp4", "w"), w, {}, {}});
  }
  return m;
}

Item& item(Model& m, const std::string& path) {
  for (Item& i : m)
    if (i.path == path) return i;
  throw std::logic_error("no item " + path);
}

void write_model(const std::string& file, const Model& m, const std::string& kind = "golden",
                 const std::vector<std::pair<std::string, const Model*>>& runs = {}) {
  GoldenMeta meta;
  meta.kind = kind;
  meta.name = "test-model";
  meta.config_json = "{\"layers\":6}";
  meta.seed = 7;
  GoldenWriter w(file, meta);
  if (runs.empty())
    for (const Item& i : m) w.write(i.path, i.t, i.attrs, i.links);
  for (const auto& [run, model] : runs)
    for (const Item& i : *model) {
      TensorAttrs a = i.attrs;
      if (!a.scale.empty()) a.scale = "/" + run + a.scale;
      w.write("/" + run + i.path, i.t, a);
    }
  w.commit();
}

class Compare : public v4::test::TempDirTest {
 protected:
  void SetUp() override {
    golden_ = path("golden.h5");
    write_model(golden_, make_model(1));
  }
  std::string candidate(const std::function<void(Model&)>& mutate, const std::string& name = "cand.h5") {
    Model m = make_model(1);
    mutate(m);
    write_model(path(name), m, "candidate");
    return path(name);
  }
  CompareResult run(const std::string& cand, Policy p = Policy(), int64_t chunk = int64_t(64) << 20) {
    CompareOptions o;
    o.policy = std::move(p);
    o.chunk_bytes = chunk;
    return compare_files(golden_, cand, o);
  }
  std::string golden_;
};

const TensorResult& verdict_tensor(const CompareResult& r) {
  EXPECT_GE(r.verdict(), 0);
  return r.tensors.at(size_t(r.verdict()));
}

std::string hex32(uint32_t u) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", u);
  return b;
}
std::string g9(float f) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", double(f));
  return b;
}

}  // namespace

// =============================================================================================
// Planted faults
// =============================================================================================

TEST_F(Compare, IdenticalFilesPass) {
  const CompareResult r = run(candidate([](Model&) {}));
  EXPECT_TRUE(r.pass());
  EXPECT_EQ(r.runs, std::vector<std::string>{""});
  EXPECT_EQ(r.tensors.size(), size_t(kLayers * 8));
  for (const TensorResult& t : r.tensors) {
    EXPECT_EQ(t.stats.bit_equal, t.stats.n) << t.path;
    EXPECT_EQ(t.stats.nmse(), 0.0);
    EXPECT_EQ(t.stats.calc_diff(), 0.0);
  }
  EXPECT_EQ(r.layers.size(), size_t(kLayers));
  EXPECT_NE(report_summary_line(r).find("OK: 48 tensors within policy"), std::string::npos) << report_summary_line(r);
}

TEST_F(Compare, OneFlippedBitDeepInTheFileIsLocatedExactly) {
  const int64_t row = 17, col = 33, flat = row * 50 + col;
  uint32_t before = 0;
  const std::string c = candidate([&](Model& m) {
    float* h = item(m, "/layers/4/ffn/h").t.as<float>();
    before = f32_bits(h[flat]);
    h[flat] = f32_from_bits(before ^ 0x8u);  // mantissa bit 3: the ordered key moves by exactly 8
  });
  const CompareResult r = run(c);
  ASSERT_FALSE(r.pass());
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/layers/4/ffn/h");
  EXPECT_EQ(t.layer, "4");
  EXPECT_EQ(t.component, "ffn");
  EXPECT_EQ(t.stats.n - t.stats.bit_equal, 1);
  EXPECT_EQ(t.stats.first_diff.index, flat);
  EXPECT_EQ(t.stats.worst.index, flat);
  EXPECT_EQ(t.stats.max_steps, 8u);
  EXPECT_EQ(t.stats.steps_hist[4], 1);  // bucket [8, 16)
  const std::string want = "[17, 33]: golden " + hex32(before) + " (" + g9(f32_from_bits(before)) + ") candidate " +
                           hex32(before ^ 8u) + " (" + g9(f32_from_bits(before ^ 8u)) + "), 8 ulp (f32)";
  EXPECT_EQ(t.first_text, want);
  // Every other tensor passes; only this one fails.
  int failed = 0;
  for (const TensorResult& x : r.tensors) failed += !x.pass;
  EXPECT_EQ(failed, 1);
  const std::string line = report_summary_line(r);
  EXPECT_NE(line.find("DIVERGED at /layers/4/ffn/h [17, 33]"), std::string::npos) << line;
  // ulp:8 accepts it, ulp:7 does not.
  EXPECT_TRUE(run(c, Policy(budget_parse("ulp:8"))).pass());
  EXPECT_FALSE(run(c, Policy(budget_parse("ulp:7"))).pass());
}

TEST_F(Compare, FirstDivergenceIsFirstInModelOrderNotWorst) {
  const std::string c = candidate([](Model& m) {
    item(m, "/layers/2/attn/out").t.as<uint16_t>()[5] ^= 1;      // layer 2, 1 ulp
    item(m, "/layers/5/ffn/h").t.as<float>()[0] *= 1000.0f;       // layer 5, huge
  });
  const CompareResult r = run(c);
  EXPECT_EQ(verdict_tensor(r).path, "/layers/2/attn/out");
  EXPECT_EQ(verdict_tensor(r).stats.max_steps, 1u);
  EXPECT_EQ(verdict_tensor(r).stats.first_diff.index, 5);
  EXPECT_EQ(r.layers[2].first_failed, "/layers/2/attn/out");
  EXPECT_EQ(r.layers[5].first_failed, "/layers/5/ffn/h");
}

TEST_F(Compare, SwappedEqualScoreTopkEntriesAreATieFlip) {
  const std::string c = candidate([](Model& m) {
    int32_t* tk = item(m, "/layers/3/indexer/topk").t.as<int32_t>();
    ASSERT_EQ(tk[3 * kTopK + 0], 10);  // the test's own top-k put the equal scores 10, 20 first
    ASSERT_EQ(tk[3 * kTopK + 1], 20);
    std::swap(tk[3 * kTopK + 0], tk[3 * kTopK + 1]);
  });
  const CompareResult r = run(c);
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/layers/3/indexer/topk");
  ASSERT_TRUE(t.index.has_value());
  EXPECT_EQ(t.index->rows_differ, 1);
  EXPECT_EQ(t.index->rows_tie_flip, 1);
  EXPECT_EQ(t.index->rows_real, 0);
  EXPECT_EQ(t.index->set_diff, 0);
  EXPECT_EQ(t.index->order_diff, 2);
  EXPECT_EQ(t.index->first_tie_row, 3);
  EXPECT_NE(t.why.find("1 of 8 rows differs (1 tie flip of equal scores, 0 real mismatches)"), std::string::npos) << t.why;
  // A policy that tolerates tie flips passes the file.
  Policy p;
  p.add_rule({"layers/*/indexer/topk", budget_parse("ties"), "tie order is free", 1});
  EXPECT_TRUE(run(c, p).pass());
}

TEST_F(Compare, BoundaryTieIsATieFlipButALowerScoreIsReal) {
  const std::string tie = candidate([](Model& m) {
    int32_t* tk = item(m, "/layers/1/indexer/topk").t.as<int32_t>();
    int32_t* e = std::find(tk + 5 * kTopK, tk + 6 * kTopK, 7);
    ASSERT_NE(e, tk + 6 * kTopK);
    *e = 40;  // 40 has the same score (5.0) as 7, the boundary score
  }, "tie.h5");
  const CompareResult r = run(tie);
  const TensorResult& t = verdict_tensor(r);
  ASSERT_TRUE(t.index.has_value());
  EXPECT_EQ(t.index->rows_tie_flip, 1);
  EXPECT_EQ(t.index->rows_real, 0);
  EXPECT_EQ(t.index->set_diff, 1);

  const std::string real = candidate([](Model& m) {
    int32_t* tk = item(m, "/layers/1/indexer/topk").t.as<int32_t>();
    int32_t* e = std::find(tk + 5 * kTopK, tk + 6 * kTopK, 7);
    *e = 0;  // index 0 has a score in [0, 1): below the boundary score 5.0
  }, "real.h5");
  const CompareResult r2 = run(real, Policy(budget_parse("ties")));
  const TensorResult& t2 = verdict_tensor(r2);
  EXPECT_EQ(t2.path, "/layers/1/indexer/topk");
  EXPECT_EQ(t2.index->rows_real, 1);
  EXPECT_EQ(t2.index->first_real_row, 5);
}

TEST_F(Compare, ScaleOffByOneExponentIsAScaleMismatch) {
  const std::string c = candidate([](Model& m) { item(m, "/layers/2/act_quant/s").t.as<uint8_t>()[2 * 2 + 1] += 1; });
  const CompareResult r = run(c);
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/layers/2/act_quant/s");
  EXPECT_EQ(t.stats.first_diff.index, 5);
  EXPECT_EQ(t.stats.max_steps, 1u);
  EXPECT_EQ(steps_unit(t.fmt), "exponent steps (ue8m0)");
  EXPECT_EQ(t.first_text, "[2, 1]: golden 0x7e (0.5) candidate 0x7f (1), 1 exponent steps (ue8m0)");
  // The codes that use this scale are bit-equal and say where their scale differs.
  for (const TensorResult& x : r.tensors)
    if (x.path == "/layers/2/act_quant/q") {
      ASSERT_TRUE(x.quant.has_value());
      EXPECT_TRUE(x.pass);
      EXPECT_EQ(x.quant->scale_mismatch, 1);
      EXPECT_EQ(x.quant->scale_max_steps, 1u);
    }
}

TEST_F(Compare, CodeFlipOnARoundingTieIsRecognised) {
  const std::string c = candidate([](Model& m) {
    uint8_t* q = item(m, "/layers/0/act_quant/q").t.as<uint8_t>();
    ASSERT_EQ(q[130], 0x40);  // 2.125 rounds to even: 2.0
    q[130] = 0x41;            // 2.25: the other neighbour of the tie
    q[3] ^= 0x01;             // [0, 3]: a flip that is not a tie (x / s is not a midpoint there)
  });
  const CompareResult r = run(c);
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/layers/0/act_quant/q");
  ASSERT_TRUE(t.quant.has_value());
  EXPECT_EQ(t.quant->flips, 2);
  EXPECT_EQ(t.quant->flips_on_tie, 1);
  EXPECT_EQ(t.quant->flips_not_tie, 1);
  EXPECT_EQ(t.quant->flips_tie_unknown, 0);
  EXPECT_EQ(t.quant->scale_mismatch, 0);
}

TEST_F(Compare, NanAccounting) {
  const auto set = [](uint32_t g_bits, uint32_t c_bits) {
    return [=](Model& m, bool golden) {
      item(m, "/layers/0/ffn/h").t.as<float>()[7] = f32_from_bits(golden ? g_bits : c_bits);
    };
  };
  struct Case {
    uint32_t g, c;
    bool bitwise_pass, ulp0_pass;
  } cases[] = {
      {0x7FC00000u, 0x7FC00000u, true, true},    // same NaN
      {0x7FC00000u, 0x7FFFFFFFu, false, true},   // NaN vs NaN, payloads differ: only bitwise objects
      {0x7FC00000u, 0x3F800000u, false, false},  // NaN vs 1.0
      {0x7F800000u, 0xFF800000u, false, false},  // +inf vs -inf
  };
  for (const Case& k : cases) {
    Model gm = make_model(1), cm = make_model(1);
    set(k.g, k.c)(gm, true);
    set(k.g, k.c)(cm, false);
    write_model(golden_, gm);
    write_model(path("c.h5"), cm, "candidate");
    const CompareResult rb = run(path("c.h5"));
    const CompareResult ru = run(path("c.h5"), Policy(budget_parse("ulp:0")));
    EXPECT_EQ(rb.pass(), k.bitwise_pass) << std::hex << k.g << " " << k.c;
    EXPECT_EQ(ru.pass(), k.ulp0_pass) << std::hex << k.g << " " << k.c;
    const TensorResult& t = rb.tensors[1];
    ASSERT_EQ(t.path, "/layers/0/ffn/h");
    const bool gnan = (k.g & 0x7FFFFFFF) > 0x7F800000, cnan = (k.c & 0x7FFFFFFF) > 0x7F800000;
    EXPECT_EQ(t.stats.nan_a, gnan ? 1 : 0);
    EXPECT_EQ(t.stats.nan_b, cnan ? 1 : 0);
    EXPECT_EQ(t.stats.nan_both, gnan && cnan ? 1 : 0);
    EXPECT_EQ(t.stats.nonfinite_mismatch, gnan != cnan || (!gnan && k.g != k.c) ? 1 : 0);
    // NaN never enters a sum: NMSE stays finite and zero (no other element differs).
    EXPECT_EQ(t.stats.nmse(), 0.0);
  }
}

TEST_F(Compare, Fp4OddRowsLocateTheNibble) {
  const std::string c = candidate([](Model& m) {
    Tensor& w = item(m, "/layers/3/fp4/w").t;
    w.data[size_t(2 * 4 + 6 / 2)] ^= 0x02;  // row 2, element 6 (low nibble of the row's last byte)
  });
  const CompareResult r = run(c);
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/layers/3/fp4/w");
  EXPECT_EQ(t.stats.first_diff.index, 2 * 7 + 6);
  EXPECT_EQ(coords_text(t.shape, t.stats.first_diff.index), "[2, 6]");
  EXPECT_EQ(t.stats.n, 35);
  EXPECT_EQ(t.stats.bit_equal, 34);
}

// =============================================================================================
// Metrics against an independent recomputation
// =============================================================================================

namespace {
// bf16 distance in ULPs by walking the ordered bf16 line: independent of the key trick.
int64_t bf16_index(uint16_t b) { return (b & 0x8000) ? -int64_t(b & 0x7FFF) : int64_t(b); }
}  // namespace

TEST_F(Compare, Bf16MetricsMatchALongDoubleRecomputation) {
  Model gm = make_model(1), cm = make_model(1);
  Lcg r{99};
  uint16_t* a = item(gm, "/layers/1/attn/out").t.as<uint16_t>();
  uint16_t* b = item(cm, "/layers/1/attn/out").t.as<uint16_t>();
  const int64_t n = 64 * 96;
  for (int64_t i = 0; i < n; ++i) {
    const int d = int(r.next() % 7) - 3;  // -3..3 bf16 steps, sign-safe (values are away from 0 mostly)
    const uint16_t mag = uint16_t((b[i] & 0x7FFF) + ((b[i] & 0x7FFF) > 8 ? d : 0));
    b[i] = uint16_t((b[i] & 0x8000) | mag);
  }
  write_model(golden_, gm);
  write_model(path("c.h5"), cm, "candidate");
  const CompareResult res = run(path("c.h5"), Policy(budget_parse("nmse:1")));
  const TensorStats& s = res.tensors[size_t(1 * 8)].stats;
  ASSERT_EQ(res.tensors[size_t(1 * 8)].path, "/layers/1/attn/out");
  long double d2 = 0, a2 = 0, b2 = 0, ab = 0;
  int64_t eq = 0, maxu = 0;
  double maxabs = 0, maxrel = 0;
  std::array<int64_t, kUlpBuckets> hist{};
  for (int64_t i = 0; i < n; ++i) {
    const long double x = bf16_decode(a[i]), y = bf16_decode(b[i]);
    d2 += (x - y) * (x - y), a2 += x * x, b2 += y * y, ab += x * y;
    eq += a[i] == b[i];
    const int64_t u = std::llabs(bf16_index(a[i]) - bf16_index(b[i]));
    maxu = std::max(maxu, u);
    int bucket = 0;
    while ((int64_t(1) << bucket) <= u) ++bucket;  // 0 -> 0, 1 -> 1, 2..3 -> 2, 4..7 -> 3
    ++hist[size_t(bucket)];
    maxabs = std::max(maxabs, double(std::fabs(x - y)));
    if (x != 0) maxrel = std::max(maxrel, double(std::fabs(x - y) / std::fabs(x)));
  }
  EXPECT_EQ(s.n, n);
  EXPECT_EQ(s.bit_equal, eq);
  EXPECT_EQ(int64_t(s.max_steps), maxu);
  EXPECT_EQ(s.steps_hist, hist);
  EXPECT_EQ(s.max_abs, maxabs);  // one subtraction of two bf16 values: exact in double
  EXPECT_EQ(s.max_rel, maxrel);
  // Sums in double in a fixed 8-lane order vs a long-double sequential sum of 6144 terms: relative
  // difference bounded by ~n * 2^-53 ≈ 7e-13; 1e-11 leaves margin, far below any meaningful NMSE.
  constexpr double kSumRelTol = 1e-11;
  EXPECT_NEAR(s.nmse(), double(d2 / a2), double(d2 / a2) * kSumRelTol);
  // calc_diff = 1 - r with r within ~1e-13 of 1 in relative terms: absolute error far below 1e-12.
  constexpr double kCalcDiffAbsTol = 1e-12;
  EXPECT_NEAR(s.calc_diff(), double(1 - 2 * ab / (a2 + b2)), kCalcDiffAbsTol);
}

TEST_F(Compare, FormatStepsAreMeasuredInTheFormatsOwnUnits) {
  auto steps = [](Fmt f, uint64_t x, uint64_t y) {
    uint8_t a[8], b[8];
    std::memcpy(a, &x, 8), std::memcpy(b, &y, 8);
    return elem_steps(elem_read(f, a, 0), elem_read(f, b, 0));
  };
  EXPECT_EQ(steps(Fmt::e4m3fn, 0x01, 0x81), 2u);  // +min subnormal to -min subnormal: through ±0
  EXPECT_EQ(steps(Fmt::e4m3fn, 0x00, 0x80), 0u);  // +0 vs -0
  EXPECT_EQ(steps(Fmt::e4m3fn, 0x7E, 0x76), 8u);  // 448 vs 240: one binade of 8 codes
  EXPECT_EQ(steps(Fmt::e5m2, 0x7B, 0x7C), 1u);    // max finite to inf
  EXPECT_EQ(steps(Fmt::ue8m0, 0x7F, 0x81), 2u);   // 1 vs 4: two exponent steps
  EXPECT_EQ(steps(Fmt::e2m1x2, 0x7, 0xF), 14u);   // +6 to -6: 7 + 7 codes
  EXPECT_EQ(steps(Fmt::bf16, 0x3F80, 0x3F81), 1u);
  EXPECT_EQ(steps(Fmt::i64, uint64_t(INT64_MIN), uint64_t(INT64_MAX)), UINT64_MAX);  // saturates
  EXPECT_EQ(bits_hex(Fmt::bf16, 0x3F80), "0x3f80");
  EXPECT_EQ(bits_hex(Fmt::e2m1x2, 0x5), "0x5");
}

TEST_F(Compare, ResultsAreIdenticalForAnyThreadCountAndChunkSize) {
  const std::string c = candidate([](Model& m) {
    for (Item& i : m)
      if (i.t.fmt == Fmt::f32)
        for (int64_t k = 0; k < i.t.numel(); k += 3) i.t.as<float>()[k] = std::nextafter(i.t.as<float>()[k], 10.0f);
  });
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const CompareResult r1 = run(c, Policy(budget_parse("nmse:1")), 100);  // 100-byte chunks
  omp_set_num_threads(std::max(2, threads));
  const CompareResult r2 = run(c, Policy(budget_parse("nmse:1")), int64_t(64) << 20);
  omp_set_num_threads(threads);
  ASSERT_EQ(r1.tensors.size(), r2.tensors.size());
  for (size_t i = 0; i < r1.tensors.size(); ++i) {
    const TensorStats &a = r1.tensors[i].stats, &b = r2.tensors[i].stats;
    EXPECT_EQ(std::memcmp(&a.sum_d2, &b.sum_d2, sizeof(double)), 0) << r1.tensors[i].path;
    EXPECT_EQ(std::memcmp(&a.sum_a2, &b.sum_a2, sizeof(double)), 0);
    EXPECT_EQ(std::memcmp(&a.sum_ab, &b.sum_ab, sizeof(double)), 0);
    EXPECT_EQ(a.first_diff.index, b.first_diff.index);
    EXPECT_EQ(a.bit_equal, b.bit_equal);
    EXPECT_EQ(a.steps_hist, b.steps_hist);
  }
  EXPECT_EQ(report_json(r1).substr(0, 200), report_json(r2).substr(0, 200));
}

// =============================================================================================
// Policies
// =============================================================================================

TEST(ComparePolicy, ParseAndMatch) {
  EXPECT_EQ(budget_parse("ulp:3").ulp, 3u);
  EXPECT_EQ(budget_parse("nmse:1e-6").nmse, 1e-6);
  EXPECT_EQ(budget_parse("bitwise").kind, Budget::Kind::bitwise);
  EXPECT_THROW(budget_parse("ulp:-1"), std::invalid_argument);
  EXPECT_THROW(budget_parse("nmse:x"), std::invalid_argument);
  EXPECT_THROW(budget_parse("nmse:inf"), std::invalid_argument);
  EXPECT_THROW(budget_parse("close"), std::invalid_argument);
  const v4::test::TempDir tmp;
  const std::string f = tmp.path("policy.txt");
  {
    std::ofstream o(f);
    o << "# routing\nlayers/*/moe_gate/*  ulp:2  \"routing scores tolerate bf16 ties\"\n"
         "layers/3/*  nmse:1e-4\n*  bitwise  everything else exact\n";
  }
  Policy p;
  p.load_file(f);
  EXPECT_EQ(p.match("/layers/12/moe_gate/scores").budget.text(), "ulp:2");
  EXPECT_EQ(p.match("/layers/12/moe_gate/scores").reason, "routing scores tolerate bf16 ties");
  EXPECT_EQ(p.match("/layers/3/attn/out").budget.text(), "nmse:0.0001");
  EXPECT_EQ(p.match("/layers/3/attn/out").reason, "policy file line 3");
  EXPECT_EQ(p.match("/x").reason, "everything else exact");
  {
    std::ofstream o(f);
    o << "layers/*  ulp:two\n";
  }
  Policy bad;
  try {
    bad.load_file(f);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file, f);
    EXPECT_EQ(e.dataset, "line 1");
    EXPECT_NE(e.problem.find("ulp:two"), std::string::npos);
  }
}

TEST_F(Compare, PolicyReasonIsPrinted) {
  const std::string c = candidate([](Model& m) { item(m, "/layers/2/ffn/h").t.as<float>()[0] *= 1.5f; });
  Policy p;
  p.add_rule({"layers/*/ffn/*", budget_parse("nmse:1e-9"), "ffn accumulates in fp32", 1});
  const CompareResult r = run(c, p);
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.rule.reason, "ffn accumulates in fp32");
  EXPECT_NE(report_text(r).find("[ffn accumulates in fp32]"), std::string::npos);
  EXPECT_NE(t.why.find("nmse:1e-09: NMSE"), std::string::npos) << t.why;
}

// =============================================================================================
// Bit-equal shares, roles, unmatched policy rules, the ties budget on quantized tensors
// =============================================================================================

namespace {
// An op-like file (what `v4oracle op` writes): input /a copied verbatim into the candidate, output /c.
// The candidate's /c differs from the golden's by +1 ulp at the `bumped` flat indices.
void write_op_file(const std::string& file, const std::vector<int64_t>& bumped) {
  Tensor a = Tensor::make(Fmt::f32, {10, 10}), c = Tensor::make(Fmt::f32, {3, 4});
  for (int64_t i = 0; i < a.numel(); ++i) a.as<float>()[i] = 0.25f * float(i) - 7.0f;
  for (int64_t i = 0; i < c.numel(); ++i) c.as<float>()[i] = 1.5f + float(i);
  for (int64_t i : bumped) c.as<float>()[i] = f32_from_bits(f32_bits(c.as<float>()[i]) + 1);
  H5Writer w(file);
  write_file_meta(w, "op", "test_op");
  w.set_root_attr(kAttrOutputs, "/c");
  w.write("/a", a);
  w.write("/c", c);
  w.commit();
}
}  // namespace

TEST_F(Compare, BitEqualIsNeverClaimedWhenElementsDifferAndInputsAreApart) {
  write_op_file(path("op_g.h5"), {});
  write_op_file(path("op_c.h5"), {1, 5, 11});  // 3 of the 12 output elements, 1 ulp each
  CompareOptions o;
  o.policy = Policy(budget_parse("ulp:1"));
  const CompareResult r = compare_files(path("op_g.h5"), path("op_c.h5"), o);
  ASSERT_TRUE(r.pass());
  ASSERT_EQ(r.tensors.size(), 2u);
  EXPECT_EQ(r.tensors[0].role, kRoleInput);
  EXPECT_EQ(r.tensors[1].role, kRoleOutput);
  const std::string line = report_summary_line(r);
  // 9 of 12 output elements are bit-equal: 75%; the 100 copied input elements are reported apart.
  EXPECT_NE(line.find("outputs: 12 elements in 1 tensor, 75.0000% bit-equal; inputs: 100 elements in 1 tensor, 100% bit-equal"),
            std::string::npos) << line;
  const std::string text = report_text(r);
  EXPECT_NE(text.find("/c (output): 3 of 12 elements differ, 75.0000% bit-equal, max 1 ulp (f32) [ulp:1"), std::string::npos)
      << text;
  // One differing element in ten million is not "100.0000%": the share is floored, never rounded up.
  EXPECT_EQ(bit_equal_pct(9999999, 10000000), "99.9999%");
  EXPECT_EQ(bit_equal_pct(99999999, 100000000), "99.9999%");
  EXPECT_EQ(bit_equal_pct(7, 7), "100%");
  EXPECT_EQ(bit_equal_pct(2, 3), "66.6666%");
}

TEST_F(Compare, PolicyRuleMatchingNoDatasetWarnsAndFailsUnderStrict) {
  const std::string c = candidate([](Model&) {});
  Policy p;
  p.add_rule({"/layers/*/ffn/h", budget_parse("ulp:4"), "leading slash", 1});
  p.add_rule({"layers/*/ffn/h", budget_parse("ulp:4"), "fine", 2});
  CompareOptions o;
  o.policy = p;
  const CompareResult r = compare_files(golden_, c, o);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("policy rule '/layers/*/ffn/h ulp:4' matches no dataset of the golden"), std::string::npos)
      << r.warnings[0];
  EXPECT_NE(r.warnings[0].find("write 'layers/*/ffn/h'"), std::string::npos) << r.warnings[0];
  EXPECT_NE(report_text(r).find("warning:"), std::string::npos);
  o.strict = true;
  try {
    compare_files(golden_, c, o);
    ADD_FAILURE() << "no error under strict";
  } catch (const InputError& e) {
    EXPECT_EQ(e.dataset, "line 1");
    EXPECT_NE(e.problem.find("--strict"), std::string::npos) << e.problem;
  }
}

TEST_F(Compare, TiesBudgetAllowsExactlyTheRoundingTieFlipsOfQuantizedTensors) {
  Policy ties;
  ties.add_rule({"layers/*/act_quant/q", budget_parse("ties"), "rounding ties are free", 1});
  // [0, 130] sits on the e4m3 midpoint 2.125 (make_model): the other neighbour is a pure tie flip.
  const std::string tie = candidate([](Model& m) { item(m, "/layers/0/act_quant/q").t.as<uint8_t>()[130] = 0x41; }, "tie.h5");
  const CompareResult r = run(tie, ties);
  EXPECT_TRUE(r.pass()) << report_summary_line(r);
  EXPECT_FALSE(run(tie).pass());  // bitwise still fails it
  // A flip that is not on a tie fails the same budget, alongside the tie flip.
  const std::string both = candidate([](Model& m) {
    uint8_t* q = item(m, "/layers/0/act_quant/q").t.as<uint8_t>();
    q[130] = 0x41;
    q[3] ^= 0x01;
  }, "both.h5");
  const CompareResult r2 = run(both, ties);
  ASSERT_FALSE(r2.pass());
  const TensorResult& t = verdict_tensor(r2);
  EXPECT_EQ(t.path, "/layers/0/act_quant/q");
  EXPECT_NE(t.why.find("ties: 1 of 2 code flips not on a rounding tie"), std::string::npos) << t.why;
}

// =============================================================================================
// Candidates as kernels and frameworks produce them: output-only, plain h5py, other names, f32 for bf16
// =============================================================================================

namespace {
bool have_h5py() { return std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") == 0; }
// Runs a Python script; "" on success, else its output.
std::string python(const std::string& dir, const std::string& script) {
  const std::string py = dir + "/s.py", out = dir + "/s.out";
  std::ofstream(py) << script;
  const int rc = std::system(("/usr/bin/python3 " + py + " >" + out + " 2>&1").c_str());
  std::ifstream f(out);
  const std::string s((std::istreambuf_iterator<char>(f)), {});
  return rc == 0 ? "" : "python failed: " + s;
}
}  // namespace

TEST_F(Compare, OutputOnlyPlainH5pyCandidateComparesItsDatasets) {
  if (!have_h5py()) GTEST_SKIP() << "python3 with h5py and numpy absent";
  write_op_file(path("op_g.h5"), {});
  // What a kernel developer dumps: only the output, float32, no v4oracle attributes at all. The values
  // are the golden's (1.5 + i), rebuilt here; element 7 is 1 ulp above (nextafter).
  ASSERT_EQ(python(dir_.string(),
                   "import h5py, numpy as np\n"
                   "c = (1.5 + np.arange(12, dtype=np.float32)).reshape(3, 4)\n"
                   "with h5py.File('" + path("plain.h5") + "', 'w') as f: f['c'] = c\n"
                   "c.reshape(-1)[7] = np.nextafter(c.reshape(-1)[7], np.float32(np.inf))\n"
                   "with h5py.File('" + path("plain_bad.h5") + "', 'w') as f: f['c'] = c\n"
                   "with h5py.File('" + path("named.h5") + "', 'w') as f: f['model/out'] = c\n"),
            "");
  CompareOptions o;
  const CompareResult r = compare_files(path("op_g.h5"), path("plain.h5"), o);
  EXPECT_TRUE(r.pass()) << report_summary_line(r);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_EQ(r.tensors[0].path, "/c");
  EXPECT_EQ(r.not_in_candidate, std::vector<std::string>{"/a"});
  EXPECT_EQ(r.candidate_meta.schema_version, 0);
  EXPECT_NE(report_text(r).find("not in candidate: 1 golden dataset, not compared"), std::string::npos);
  const CompareResult bad = compare_files(path("op_g.h5"), path("plain_bad.h5"), o);
  ASSERT_FALSE(bad.pass());
  EXPECT_EQ(verdict_tensor(bad).stats.first_diff.index, 7);
  EXPECT_EQ(verdict_tensor(bad).stats.max_steps, 1u);
  // --require-all restores the strict check.
  o.require_all = true;
  try {
    compare_files(path("op_g.h5"), path("plain.h5"), o);
    ADD_FAILURE() << "no error under require_all";
  } catch (const InputError& e) {
    EXPECT_EQ(e.dataset, "/a");
    EXPECT_NE(e.problem.find("missing"), std::string::npos);
  }
  o.require_all = false;
  // Another name: none of the golden's datasets without a map; with --map it compares (and fails at 7).
  EXPECT_THROW(compare_files(path("op_g.h5"), path("named.h5"), o), InputError);
  std::ofstream(path("map.txt")) << "# candidate  golden\nmodel/out  c\n";
  o.name_map = load_name_map(path("map.txt"));
  o.name_map_file = path("map.txt");
  const CompareResult mapped = compare_files(path("op_g.h5"), path("named.h5"), o);
  ASSERT_EQ(mapped.tensors.size(), 1u);
  EXPECT_EQ(mapped.tensors[0].candidate_path, "/model/out");
  EXPECT_EQ(mapped.tensors[0].stats.first_diff.index, 7);
  std::ofstream(path("map.txt")) << "model/out  nope\n";
  o.name_map = load_name_map(path("map.txt"));
  EXPECT_THROW(compare_files(path("op_g.h5"), path("named.h5"), o), InputError);
  std::ofstream(path("map.txt")) << "model/out\n";
  EXPECT_THROW(load_name_map(path("map.txt")), InputError);
  // A file that claims to be v4oracle's must still be right: a wrong magic is bad input.
  ASSERT_EQ(python(dir_.string(), "import h5py, numpy as np\nwith h5py.File('" + path("wrong.h5") +
                                      "', 'w') as f:\n  f.attrs['magic'] = 'other'\n  f['c'] = np.zeros((3, 4), np.float32)\n"),
            "");
  EXPECT_THROW(compare_files(path("op_g.h5"), path("wrong.h5"), o), InputError);
}

TEST_F(Compare, CandidateCastRoundsFloat32ToBf16ByRne) {
  // Golden bf16 [4]: 1.0, 1 + 2^-6, 2.0, -3.0. The candidate's float32 values: 1 + 2^-8 (midpoint of
  // 1.0 and 1 + 2^-7: RNE keeps the even 1.0), 1 + 3 * 2^-8 (midpoint of 1 + 2^-7 and 1 + 2^-6: even is
  // 1 + 2^-6), 2.0 exactly, and -3 - 2^-6 (bf16 ulp at 3 is 2^-6: the next bf16 below -3, 1 ulp off).
  Tensor gt = Tensor::make(Fmt::bf16, {4});
  const float gv[4] = {1.0f, 1.0f + 0x1p-6f, 2.0f, -3.0f};
  for (int i = 0; i < 4; ++i) gt.as<uint16_t>()[i] = uint16_t(f32_bits(gv[i]) >> 16);  // exact in bf16
  Tensor ct = Tensor::make(Fmt::f32, {4});
  const float cv[4] = {1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 2.0f, -3.0f - 0x1p-6f};
  for (int i = 0; i < 4; ++i) ct.as<float>()[i] = cv[i];
  for (const auto& [file, t] : {std::pair{path("bg.h5"), &gt}, std::pair{path("fc.h5"), &ct}}) {
    H5Writer w(file);
    write_file_meta(w, "op", "cast_test");
    w.write("/y", *t);
    w.commit();
  }
  CompareOptions o;
  try {
    compare_files(path("bg.h5"), path("fc.h5"), o);
    ADD_FAILURE() << "f32 vs bf16 accepted without --candidate-cast";
  } catch (const InputError& e) {
    EXPECT_NE(e.problem.find("--candidate-cast bf16"), std::string::npos) << e.problem;
  }
  o.candidate_cast = Fmt::bf16;
  const CompareResult r = compare_files(path("bg.h5"), path("fc.h5"), o);
  ASSERT_EQ(r.tensors.size(), 1u);
  EXPECT_TRUE(r.tensors[0].cast);
  EXPECT_EQ(r.tensors[0].stats.bit_equal, 3);
  EXPECT_EQ(r.tensors[0].stats.first_diff.index, 3);
  EXPECT_EQ(r.tensors[0].stats.max_steps, 1u);
}

// =============================================================================================
// Metrics people use: allclose with a pass rate, cosine similarity, mean errors
// =============================================================================================

TEST_F(Compare, AllcloseBudgetPassRateCosineAndMeanErrors) {
  // Golden /y = 1.5 + i (12 float32); the candidate moves [1] by +0.01 and [5] by +1.
  std::vector<float> g(12), c(12);
  for (int i = 0; i < 12; ++i) g[size_t(i)] = c[size_t(i)] = 1.5f + float(i);
  c[1] += 0.01f;
  c[5] += 1.0f;
  for (const auto& [file, v] : {std::pair{path("cg.h5"), &g}, std::pair{path("cc.h5"), &c}}) {
    Tensor t = Tensor::make(Fmt::f32, {3, 4});
    std::copy(v->begin(), v->end(), t.as<float>());
    H5Writer w(file);
    write_file_meta(w, "op", "close_test");
    w.write("/y", t);
    w.commit();
  }
  const auto cmp = [&](const std::string& budget) {
    CompareOptions o;
    o.policy = Policy(budget_parse(budget));
    return compare_files(path("cg.h5"), path("cc.h5"), o);
  };
  // rtol 0.005: [1] is within (0.01 <= 0.0125), [5] is not (1 > 0.0325): pass rate 11/12.
  const CompareResult strict = cmp("close:0,0.005");
  ASSERT_FALSE(strict.pass());
  const TensorResult& t = verdict_tensor(strict);
  EXPECT_EQ(t.stats.over_count, 1);
  EXPECT_EQ(t.stats.first_over.index, 5);
  EXPECT_NE(t.why.find("1 of 12 elements not within"), std::string::npos) << t.why;
  EXPECT_TRUE(cmp("close:0,0.005,0.9").pass());    // 11/12 = 0.9167 >= 0.9
  EXPECT_FALSE(cmp("close:0,0.005,0.95").pass());  // < 0.95
  EXPECT_TRUE(cmp("close:1,0").pass());            // |d| <= 1 everywhere (1.0 exactly at [5])
  EXPECT_FALSE(cmp("close:0.99,0").pass());
  EXPECT_EQ(budget_parse("close:1e-5,1e-3,0.999").text(), "close:1e-05,0.001,0.999");
  EXPECT_THROW(budget_parse("close:1e-5"), std::invalid_argument);
  EXPECT_THROW(budget_parse("close:1e-5,1e-3,2"), std::invalid_argument);
  // Mean abs/rel error and cosine similarity, recomputed in long double from the stored values.
  long double sae = 0, sre = 0, ab = 0, aa = 0, bb = 0;
  for (int i = 0; i < 12; ++i) {
    const long double a = g[size_t(i)], b = c[size_t(i)], d = fabsl(a - b);
    sae += d, sre += d / fabsl(a), ab += a * b, aa += a * a, bb += b * b;
  }
  // The comparator sums 12 terms in double in a fixed lane order: relative error below 12 * 2^-53;
  // 1e-14 relative leaves room and would still catch any wrong term (each term is >= 1e-4 of the sum).
  EXPECT_NEAR(t.stats.mean_abs_err(), double(sae / 12), 1e-14 * double(sae / 12));
  EXPECT_NEAR(t.stats.mean_rel_err(), double(sre / 12), 1e-14 * double(sre / 12));
  EXPECT_NEAR(t.stats.cosine(), double(ab / sqrtl(aa * bb)), 1e-14);
  EXPECT_NE(report_text(strict).find("cosine similarity"), std::string::npos);
}

TEST_F(Compare, ErrorMedianAndP99AreWithinTheirBucketOfTheExactQuantile) {
  // Golden 1.0 x 1000; candidate 1 + i 2^-20 (exact in f32): abs = rel errors i 2^-20, i = 0..999.
  // Exact quantiles by rank ceil(q n) of the sorted errors: median rank 500 -> 499 2^-20, p99 rank 990
  // -> 989 2^-20. Reported: the bucket's upper edge, at most 2^-7 above the exact value.
  for (const bool cand : {false, true}) {
    Tensor t = Tensor::make(Fmt::f32, {1000});
    for (int i = 0; i < 1000; ++i) t.as<float>()[i] = cand ? 1.0f + float(i) * 0x1p-20f : 1.0f;
    H5Writer w(path(cand ? "qc.h5" : "qg.h5"));
    write_file_meta(w, "op", "quantile_test");
    w.write("/e", t);
    w.commit();
  }
  const TensorStats s = verdict_tensor(compare_files(path("qg.h5"), path("qc.h5"), CompareOptions{})).stats;
  const double med = 499 * 0x1p-20, p99 = 989 * 0x1p-20;
  for (const double v : {s.median_abs, s.median_rel}) {
    EXPECT_GE(v, med);
    EXPECT_LE(v, med * (1 + 0x1p-7));
  }
  for (const double v : {s.p99_abs, s.p99_rel}) {
    EXPECT_GE(v, p99);
    EXPECT_LE(v, p99 * (1 + 0x1p-7));
  }
}

TEST_F(Compare, TopWorstElementsAreListedWithCoordinates) {
  // 20 planted differences in /layers/2/ffn/h [33, 50]: flat index 7k moved by (k % 5) + 1 ulp (magnitude
  // bits, so the sign never changes and the distance is exactly that many steps).
  std::vector<std::pair<uint64_t, int64_t>> want;  // (steps, flat)
  const std::string c = candidate([&](Model& m) {
    float* h = item(m, "/layers/2/ffn/h").t.as<float>();
    for (int k = 0; k < 20; ++k) {
      h[7 * k] = f32_from_bits(f32_bits(h[7 * k]) + uint32_t(k % 5 + 1));
      want.push_back({uint64_t(k % 5 + 1), 7 * k});
    }
  });
  std::sort(want.begin(), want.end(), [](const auto& x, const auto& y) { return x.first != y.first ? x.first > y.first : x.second < y.second; });
  want.resize(kTopN);
  // Small chunks: the list is merged across ranges and sub-blocks, and must not depend on them.
  for (const int64_t chunk : {int64_t(64) << 20, int64_t(100)}) {
    const CompareResult r = run(c, Policy(), chunk);
    const TensorResult& t = verdict_tensor(r);
    ASSERT_EQ(t.stats.top.size(), kTopN);
    for (size_t i = 0; i < kTopN; ++i) {
      EXPECT_EQ(t.stats.top[i].steps, want[i].first) << i;
      EXPECT_EQ(t.stats.top[i].index, want[i].second) << i;
    }
    EXPECT_EQ(t.top_text.size(), kTopN);
    EXPECT_EQ(t.top_text[0].rfind(coords_text(t.shape, want[0].second) + ": golden", 0), 0u) << t.top_text[0];
    EXPECT_NE(report_text(r).find("worst 10 elements (largest distance first):"), std::string::npos);
  }
}

namespace {
// An f32_gemm op file: a [2, 4], b [3, 4], c = a b^T [2, 3] (exact in f32: small integers and 1e4).
// c[0, 0] = 1e4 + 1 - 1e4 = 1 with terms summing to 20001 in absolute value: heavy cancellation.
// c[1, 2] = 1 + 2 + 3 + 4 = 10 with terms summing to 10: none. `delta` is added to the listed elements.
void write_gemm_file(const std::string& file, const std::vector<std::pair<int64_t, float>>& delta) {
  const float av[8] = {1e4f, 1, -1e4f, 0, 1, 2, 3, 4};
  const float bv[12] = {1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1};
  Tensor a = Tensor::make(Fmt::f32, {2, 4}), b = Tensor::make(Fmt::f32, {3, 4}), c = Tensor::make(Fmt::f32, {2, 3});
  std::copy(av, av + 8, a.as<float>());
  std::copy(bv, bv + 12, b.as<float>());
  for (int m = 0; m < 2; ++m)
    for (int n = 0; n < 3; ++n) {
      double sum = 0;
      for (int k = 0; k < 4; ++k) sum += double(av[m * 4 + k]) * double(bv[n * 4 + k]);
      c.as<float>()[m * 3 + n] = float(sum);
    }
  for (const auto& [i, d] : delta) c.as<float>()[i] += d;
  H5Writer w(file);
  write_file_meta(w, "op", "f32_gemm");
  w.set_root_attr(kAttrOutputs, "/c");
  w.write("/a", a);
  w.write("/b", b);
  w.write("/c", c);
  w.commit();
}
}  // namespace

TEST_F(Compare, GemmErrorsAreWeighedAgainstTheSumOfAbsoluteTerms) {
  write_gemm_file(path("gg.h5"), {});
  // Only c[0, 0] off, by 2^-12 (2048 f32 ulps of 1): the bound 2 K 2^-24 S + 2^-24 (|g| + |c|) =
  // 8 2^-24 20001 + ~1.2e-7 = 9.5e-3 covers it; the same bound with |g| = 1 for S (6e-7) does not:
  // cancellation.
  write_gemm_file(path("gc1.h5"), {{0, 0x1p-12f}});
  CompareResult r = compare_files(path("gg.h5"), path("gc1.h5"), CompareOptions{});
  const TensorResult* t = &verdict_tensor(r);
  ASSERT_EQ(t->terms.size(), 1u);
  EXPECT_EQ(t->terms[0].abs_terms, 20001.0);
  EXPECT_EQ(t->terms[0].err, 0x1p-12);
  EXPECT_TRUE(t->terms[0].within);
  EXPECT_TRUE(t->terms[0].cancellation);
  EXPECT_NE(t->terms_text.find("catastrophic cancellation"), std::string::npos) << t->terms_text;
  EXPECT_NE(report_text(r).find("dot-product terms: worst element [0, 0]"), std::string::npos);
  // Also c[1, 2] off by 0.5 (its terms sum to 10; bound 8 2^-24 10 + 2^-24 20.5 = 6e-6): the worst
  // element now, and not explained.
  write_gemm_file(path("gc2.h5"), {{0, 0x1p-12f}, {5, 0.5f}});
  r = compare_files(path("gg.h5"), path("gc2.h5"), CompareOptions{});
  t = &verdict_tensor(r);
  ASSERT_EQ(t->terms.size(), 2u);
  EXPECT_EQ(t->terms[0].index, 5);
  EXPECT_EQ(t->terms[0].abs_terms, 10.0);
  EXPECT_FALSE(t->terms[0].within);
  EXPECT_FALSE(t->terms[0].cancellation);
  EXPECT_TRUE(t->terms[1].cancellation);
  EXPECT_NE(t->terms_text.find("not explained by cancellation"), std::string::npos) << t->terms_text;
  // Not a GEMM op file: no terms.
  write_op_file(path("op_g.h5"), {});
  write_op_file(path("op_c.h5"), {1});
  EXPECT_TRUE(verdict_tensor(compare_files(path("op_g.h5"), path("op_c.h5"), CompareOptions{})).terms.empty());
}

// =============================================================================================
// Teacher-forced and free-running runs side by side
// =============================================================================================

TEST_F(Compare, TeacherForcedAndFreeRunningSideBySide) {
  Model tf = make_model(1), fr = make_model(1);
  item(tf, "/layers/2/ffn/h").t.as<float>()[4] *= 1.0001f;  // local error at layer 2 only
  for (int L = 2; L < kLayers; ++L) {                         // accumulated error from layer 2 on, growing
    float* h = item(fr, golden_layer_path(L, "ffn", "h")).t.as<float>();
    for (int k = 0; k <= L; ++k) h[k] *= 1.0f + 0.001f * float(L);
  }
  write_model(path("runs.h5"), {}, "candidate", {{kRunTeacherForced, &tf}, {kRunFreeRunning, &fr}});
  const CompareResult r = run(path("runs.h5"));
  EXPECT_EQ(r.runs, (std::vector<std::string>{kRunTeacherForced, kRunFreeRunning}));
  EXPECT_EQ(r.tensors.size(), size_t(2 * kLayers * 8));
  const TensorResult& v = verdict_tensor(r);
  EXPECT_EQ(v.run, kRunTeacherForced);
  EXPECT_EQ(v.path, "/layers/2/ffn/h");
  EXPECT_EQ(v.stats.first_diff.index, 4);
  EXPECT_EQ(r.tensors[size_t(r.first_failure(kRunFreeRunning))].path, "/layers/2/ffn/h");
  int fr_failed_layers = 0;
  for (const LayerSummary& l : r.layers)
    if (l.run == kRunFreeRunning) fr_failed_layers += l.tensors_failed > 0;
  EXPECT_EQ(fr_failed_layers, kLayers - 2);
  const std::string text = report_text(r);
  EXPECT_NE(text.find("local (teacher_forced)"), std::string::npos);
  EXPECT_NE(text.find("accumulated (free_running)"), std::string::npos);
}

// =============================================================================================
// Root-level files (what `v4oracle op` writes)
// =============================================================================================

TEST_F(Compare, RootLevelOpFilesAreOneLayerNamedByTheOp) {
  for (const char* name : {"a.h5", "b.h5"}) {
    H5Writer w(path(name));
    write_file_meta(w, "op", "fp8_gemm");
    Tensor a = Tensor::make(Fmt::f32, {4, 4});
    for (int i = 0; i < 16; ++i) a.as<float>()[i] = float(i);
    if (std::string(name) == "b.h5") a.as<float>()[9] = -1;
    w.write("/a", a);
    w.write("/c", a);
    w.commit();
  }
  golden_ = path("a.h5");
  const CompareResult r = run(path("b.h5"));
  const TensorResult& t = verdict_tensor(r);
  EXPECT_EQ(t.path, "/a");
  EXPECT_EQ(t.layer, "fp8_gemm");
  EXPECT_EQ(t.component, "fp8_gemm");
  EXPECT_EQ(t.tensor, "a");
  EXPECT_EQ(coords_text(t.shape, t.stats.first_diff.index), "[2, 1]");
}

// =============================================================================================
// Bad input: InputError (exit 2), one line naming file and dataset
// =============================================================================================

namespace {
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}
}  // namespace

TEST_F(Compare, BadInputIsAnInputErrorNamingFileAndDataset) {
  const std::string missing = candidate([](Model& m) {
    m.erase(std::remove_if(m.begin(), m.end(), [](const Item& i) { return i.path == "/layers/4/indexer/scores"; }), m.end());
    for (Item& i : m)
      if (i.path == "/layers/4/indexer/topk") i.links = {};
  }, "missing.h5");
  CompareOptions all;
  all.require_all = true;
  EXPECT_EQ(input_error([&] { compare_files(golden_, missing, all); }),
            missing + ": /layers/4/indexer/scores: missing: the golden has this dataset (f32 [8, 64]; --require-all)");
  EXPECT_EQ(run(missing).not_in_candidate, std::vector<std::string>{"/layers/4/indexer/scores"});  // without: listed

  const std::string dtype = candidate([](Model& m) {
    Item& i = item(m, "/layers/3/ffn/h");
    i.t = Tensor::make(Fmt::bf16, {33, 50});
  }, "dtype.h5");
  EXPECT_EQ(input_error([&] { run(dtype); }),
            dtype + ": /layers/3/ffn/h: format bf16 (stored as uint16) but the golden's is f32 (stored as float32)");

  const std::string shape = candidate([](Model& m) { item(m, "/layers/0/attn/out").t = Tensor::make(Fmt::bf16, {64, 95}); },
                                      "shape.h5");
  EXPECT_EQ(input_error([&] { run(shape); }),
            shape + ": /layers/0/attn/out: logical shape [64, 95] but the golden's is [64, 96]");

  const std::string version = path("version.h5");
  {
    H5Writer w(version);
    write_file_meta(w, "candidate", "x");
    w.set_root_attr("schema_version", int64_t(2));
    w.write("/a", Tensor::make(Fmt::f32, {1}));
    w.commit();
  }
  EXPECT_EQ(input_error([&] { run(version); }),
            version + ": schema_version 2 is not supported (this v4oracle reads 1) (regenerate it with a v4oracle of schema "
                      "version 1, or see docs/golden-schema.md for what a candidate file must carry)");

  const std::string trunc = path("trunc.h5");
  fs::copy_file(golden_, trunc);
  fs::resize_file(trunc, fs::file_size(trunc) / 2);
  const std::string msg = input_error([&] { run(trunc); });
  EXPECT_EQ(msg.rfind(trunc + ": corrupt or truncated HDF5 file", 0), 0u) << msg;
}

// A byte flipped on disk under a dataset's data: a divergence by default, and with --verify-hash
// (the sha256 attribute no longer matches) a corrupt-file error naming the dataset.
TEST_F(Compare, VerifyHashCatchesCorruptData) {
  const std::string c = candidate([](Model&) {}, "corrupt.h5");
  const std::string ds = "/layers/5/ffn/h";
  uint64_t off = 0;
  {
    off = H5Reader(c).info(ds).raw->offset + 4 * 100 + 1;  // element 100, second byte
  }
  {
    std::fstream f(c, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(off));
    char b = 0;
    f.read(&b, 1);
    b = char(b ^ 0x01);
    f.seekp(std::streamoff(off));
    f.write(&b, 1);
  }
  const CompareResult r = run(c);
  EXPECT_EQ(verdict_tensor(r).path, ds);
  EXPECT_EQ(verdict_tensor(r).stats.first_diff.index, 100);
  CompareOptions o;
  o.verify_hash = true;
  EXPECT_EQ(input_error([&] { compare_files(golden_, c, o); }),
            c + ": " + ds + ": content hash mismatch: the data does not hash to its sha256 attribute (corrupt file)");
}

// The CLI: exit statuses 0 / 1 / 2, one error line, no report file on bad input.
namespace {
struct Cli {
  int status;
  std::string out, err;
};
Cli v4oracle(const std::string& args, const std::string& dir) {
  const char* bin = std::getenv("V4ORACLE_BIN");
  const std::string exe = bin ? bin : std::string(V4ORACLE_BINARY_DIR) + "/cli/v4oracle";
  const std::string o = dir + "/stdout.txt", e = dir + "/stderr.txt";
  const int rc = std::system((exe + " " + args + " >" + o + " 2>" + e).c_str());
  auto slurp = [](const std::string& p) {
    std::ifstream f(p);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, slurp(o), slurp(e)};
}
}  // namespace

TEST_F(Compare, CliExitStatusesAndNoPartialReports) {
  const std::string same = candidate([](Model&) {}, "same.h5");
  const std::string diff = candidate([](Model& m) { item(m, "/layers/5/fp4/w").t.data[0] ^= 0x10; }, "diff.h5");
  const std::string bad = candidate([](Model& m) { item(m, "/layers/1/ffn/h").t = Tensor::make(Fmt::f32, {33, 51}); }, "bad.h5");
  const std::string d = dir_.string(), json = path("r.json"), html = path("r.html");
  const std::string reports = " --json " + json + " --html " + html;

  Cli c = v4oracle("compare " + golden_ + " " + same + reports, d);
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("v4oracle compare: OK"), std::string::npos);
  EXPECT_TRUE(fs::exists(json) && fs::exists(html));
  fs::remove(json), fs::remove(html);

  c = v4oracle("compare -q " + golden_ + " " + diff + reports, d);
  EXPECT_EQ(c.status, 1) << c.err;
  EXPECT_EQ(c.out.rfind("v4oracle compare: DIVERGED at /layers/5/fp4/w [0, 1]", 0), 0u) << c.out;
  EXPECT_TRUE(fs::exists(json) && fs::exists(html));
  fs::remove(json), fs::remove(html);

  c = v4oracle("compare " + golden_ + " " + bad + reports, d);
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(c.err, "v4oracle: error: " + bad + ": /layers/1/ffn/h: logical shape [33, 51] but the golden's is [33, 50]\n");
  EXPECT_FALSE(fs::exists(json) || fs::exists(html));
  for (const auto& e : fs::directory_iterator(dir_)) EXPECT_EQ(e.path().string().find(".v4tmp-"), std::string::npos);

  c = v4oracle("compare " + golden_ + " " + path("absent.h5") + reports, d);
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(c.err.rfind("v4oracle: error: " + path("absent.h5") + ": cannot open", 0), 0u) << c.err;
  EXPECT_FALSE(fs::exists(json) || fs::exists(html));

  c = v4oracle("compare " + golden_ + " " + same + " --policy ulp:x", d);
  EXPECT_EQ(c.status, 2);
  EXPECT_NE(c.err.find("policy 'ulp:x'"), std::string::npos) << c.err;
}

TEST_F(Compare, CliMismatchesCsvListsEveryDifferingElement) {
  write_op_file(path("op_g.h5"), {});
  write_op_file(path("op_c.h5"), {1, 5, 11});
  const std::string csv = path("m.csv");
  Cli c = v4oracle("compare -q " + path("op_g.h5") + " " + path("op_c.h5") + " --policy ulp:1 --mismatches-csv " + csv,
                   dir_.string());
  EXPECT_EQ(c.status, 0) << c.err;
  std::ifstream f(csv);
  std::vector<std::string> lines;
  for (std::string l; std::getline(f, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u);  // header + the 3 planted elements, in flat order
  EXPECT_EQ(lines[0], "run,path,index,coords,golden_bits,candidate_bits,golden_value,candidate_value,steps,abs_err,rel_err");
  // [0, 1]: golden 2.5 (0x40200000), candidate one ulp above (2^-22 more), 1 step.
  EXPECT_EQ(lines[1].rfind(",/c,1,\"[0, 1]\",0x40200000,0x40200001,2.5,2.50000024,1,", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind(",/c,5,\"[1, 1]\",", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3].rfind(",/c,11,\"[2, 3]\",", 0), 0u) << lines[3];
  char want[64];
  std::snprintf(want, sizeof want, ",%.17g,%.17g", 0x1p-22, 0x1p-22 / 2.5);
  EXPECT_NE(lines[1].find(want), std::string::npos) << lines[1] << " vs " << want;
}

TEST_F(Compare, CliHelpShowsDefaultsExitStatusesAndAnExample) {
  const Cli c = v4oracle("compare --help", dir_.string());
  EXPECT_EQ(c.status, 0) << c.err;
  EXPECT_NE(c.out.find("--policy TEXT=bitwise"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("[1 - 4096]=64"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("Exit status: 0 every compared tensor within policy; 1 divergence"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("Example: v4oracle compare golden.h5 cand.h5"), std::string::npos) << c.out;
}
