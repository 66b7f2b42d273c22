// End-to-end tests of the v4oracle binary: op replay reproduces outputs bit for bit, seeded runs give
// byte-identical files, cast applies the named rules, and every kind of bad input exits with status 2,
// a one-line message naming file and dataset, and no output file (an existing one left untouched).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "golden/file_meta.h"
#include "golden/tensor_io.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace v4;
using namespace v4::golden;

namespace {

using v4::test::CliRun;
using v4::test::slurp;

class Cli : public v4::test::TempDirTest {
 protected:
  CliRun run(const std::string& args) const { return v4::test::run_cli(args, dir_); }
  // Expect status 2, a single stderr line containing every fragment, and no file at `out`.
  void expect_bad(const std::string& args, std::initializer_list<std::string> fragments, const std::string& out) {
    const CliRun r = run(args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    for (const std::string& f : fragments) EXPECT_NE(r.err.find(f), std::string::npos) << "missing '" << f << "' in: " << r.err;
    if (!out.empty()) {
      EXPECT_FALSE(fs::exists(out)) << out;
    }
    for (const auto& entry : fs::directory_iterator(dir_))
      EXPECT_EQ(entry.path().string().find(".v4tmp-"), std::string::npos) << "left a temp file: " << entry.path();
  }

};

}  // namespace

TEST_F(Cli, OpReplayReproducesOutputsAndSeededRunsAreByteIdentical) {
  ASSERT_EQ(run("op fp8_gemm --seed 3 --shape M=5 N=130 K=256 --recipe hopper -o " + path("a.h5")).status, 0);
  ASSERT_EQ(run("op fp8_gemm --seed 3 --shape M=5 N=130 K=256 --recipe hopper -o " + path("a2.h5")).status, 0);
  EXPECT_EQ(slurp(path("a.h5")), slurp(path("a2.h5")));
  ASSERT_EQ(run("op fp8_gemm --inputs " + path("a.h5") + " --recipe hopper -o " + path("b.h5")).status, 0);
  const H5Reader a(path("a.h5")), b(path("b.h5"));
  EXPECT_EQ(a.read("/c").data, b.read("/c").data);
  EXPECT_EQ(a.read("/c").shape, (std::vector<int64_t>{5, 130}));
  EXPECT_EQ(a.root_str("recipe"), "hopper");
  EXPECT_EQ(a.root_str("magic"), "v4oracle");
  for (const std::string& ds : b.datasets()) EXPECT_TRUE(b.verify_hash(ds)) << ds;
}

// Every registered op running from a seed and replaying is tests/test_op_registry.cpp (it walks the
// registry); here only the parameter that selects another input layout.
TEST_F(Cli, WeightDequantRunsItsFp4Layout) {
  EXPECT_EQ(run("op weight_dequant --seed 1 --shape fp4=1 -o " + path("wd4.h5")).status, 0);
}

TEST_F(Cli, CastAppliesTheNamedRules) {
  {
    H5Writer w(path("x.h5"));
    Tensor x = Tensor::make(Fmt::f32, {5});
    const float v[5] = {464.0f, 465.0f, -NAN, 0.75f, -1e6f};
    std::copy(v, v + 5, x.as<float>());
    w.write("/x", x);
    w.commit();
  }
  ASSERT_EQ(run("cast --to e4m3fn --mode nosat --inputs " + path("x.h5") + " -o " + path("n.h5")).status, 0);
  ASSERT_EQ(run("cast --to e4m3fn --inputs " + path("x.h5") + " -o " + path("s.h5")).status, 0);
  ASSERT_EQ(run("cast --to e2m1 --inputs " + path("x.h5") + " -o " + path("f.h5")).status, 0);
  const Tensor n = H5Reader(path("n.h5")).read("/codes", Fmt::e4m3fn), s = H5Reader(path("s.h5")).read("/codes", Fmt::e4m3fn);
  const uint8_t want_n[5] = {0x7E, 0x7F, 0xFF, 0x34, 0xFF}, want_s[5] = {0x7E, 0x7E, 0x7F, 0x34, 0xFE};  // 0.75 = 1.5*2^-1 = 0 0110 100
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(n.as<uint8_t>()[i], want_n[i]) << i;
    EXPECT_EQ(s.as<uint8_t>()[i], want_s[i]) << i;
  }
  const Tensor f = H5Reader(path("f.h5")).read("/codes", Fmt::e2m1x2);
  // e2m1 codes 6 (464 -> 6, sat), 7; NaN -> 7 | 0.75 -> 1.0 (code 2) ; -1e6 -> 0xF; packed low nibble first.
  EXPECT_EQ(f.data, (std::vector<uint8_t>{0x77, 0x27, 0x0F}));
  const Tensor vals = H5Reader(path("s.h5")).read("/values", Fmt::f32);
  EXPECT_EQ(vals.as<float>()[1], 448.0f);
  EXPECT_TRUE(std::isnan(vals.as<float>()[2]));
}

TEST_F(Cli, BadInputExitsTwoWithOneLineAndNoOutput) {
  ASSERT_EQ(run("op fp8_gemm --seed 1 -o " + path("good.h5")).status, 0);
  // Wrong format: a bf16 GEMM input given to fp8_gemm.
  ASSERT_EQ(run("op bf16_gemm --seed 1 -o " + path("bf.h5")).status, 0);
  expect_bad("op fp8_gemm --inputs " + path("bf.h5") + " -o " + path("o1.h5"), {"bf.h5", "/a", "e4m3fn"}, path("o1.h5"));
  // Missing dataset: an fp4 file lacks nothing, but a hadamard file has no /a.
  ASSERT_EQ(run("op hadamard --seed 1 -o " + path("h.h5")).status, 0);
  expect_bad("op fp8_gemm --inputs " + path("h.h5") + " -o " + path("o2.h5"), {"h.h5", "/a", "missing"}, path("o2.h5"));
  // Missing file, not an HDF5 file, truncated file.
  expect_bad("op fp8_gemm --inputs " + path("nope.h5") + " -o " + path("o3.h5"), {"nope.h5"}, path("o3.h5"));
  std::ofstream(path("junk.h5")) << "not hdf5";
  expect_bad("op exp --inputs " + path("junk.h5") + " -o " + path("o4.h5"), {"junk.h5"}, path("o4.h5"));
  {
    const std::string g = slurp(path("good.h5"));
    std::ofstream(path("trunc.h5"), std::ios::binary) << g.substr(0, g.size() / 2);
  }
  expect_bad("op fp8_gemm --inputs " + path("trunc.h5") + " -o " + path("o5.h5"), {"trunc.h5"}, path("o5.h5"));
  // Shape errors: K not a multiple of 128; unknown shape parameter; bad component; recipe where none applies.
  expect_bad("op fp8_gemm --seed 1 --shape K=100 -o " + path("o6.h5"), {"/a", "multiple of 128"}, path("o6.h5"));
  expect_bad("op fp8_gemm --seed 1 --shape Q=3 -o " + path("o7.h5"), {"unknown shape parameter", "Q"}, path("o7.h5"));
  expect_bad("op no_such_op --seed 1 -o " + path("o8.h5"), {"unknown component", "no_such_op"}, path("o8.h5"));
  expect_bad("op hadamard --seed 1 --recipe exact -o " + path("o9.h5"), {"hadamard", "recipe"}, path("o9.h5"));
  expect_bad("op hadamard -o " + path("o10.h5"), {"--inputs", "--seed"}, path("o10.h5"));
  // A failing run never damages an existing output file.
  const std::string before = slurp(path("good.h5"));
  expect_bad("op fp8_gemm --inputs " + path("h.h5") + " -o " + path("good.h5"), {"/a"}, "");
  EXPECT_EQ(slurp(path("good.h5")), before);
  // Usage errors are status 2 too.
  EXPECT_EQ(run("cast --to e9m9 --inputs x -o y").status, 2);
  EXPECT_EQ(run("frobnicate").status, 2);
}

// A zero last dimension reached the reference quantizer, whose argument check named no file ("act_quant:
// last dimension 0 ..."); the op's own check names the file and /x. An argument check deeper down on
// replayed data (rmsnorm's reference on a zero-width row) names the file at least.
TEST_F(Cli, ZeroLastDimensionNamesTheFileAndDataset) {
  for (const std::string op : {"act_quant", "fp4_act_quant"}) {
    const std::string in = path(op + "_empty.h5");
    {
      H5Writer w(in);
      w.write("/x", Tensor::make(Fmt::bf16, {4, 0}));
      Tensor block = Tensor::make(Fmt::i32, {});
      block.as<int32_t>()[0] = 128;
      if (op == "act_quant") w.write("/block", block);
      w.commit();
    }
    expect_bad("op " + op + " --inputs " + in + " -o " + path("o.h5"), {in + ": /x: last dimension 0 is not a positive multiple"},
               path("o.h5"));
  }
  const std::string in = path("rmsnorm_empty.h5");
  {
    H5Writer w(in);
    w.write("/x", Tensor::make(Fmt::bf16, {4, 0}));
    w.write("/w", Tensor::make(Fmt::f32, {0}));
    Tensor eps = Tensor::make(Fmt::f32, {});
    eps.as<float>()[0] = 1e-6f;
    w.write("/eps", eps);
    w.commit();
  }
  expect_bad("op rmsnorm --inputs " + in + " -o " + path("o.h5"), {in + ": rmsnorm: bad shape"}, path("o.h5"));
}

// An act_quant op file links its codes to their source values, so the comparator can tell a code flip
// on a rounding tie from a real one. Block max 448 gives scale 1 (docs/quantizers.md); 2.125 is the
// midpoint of the e4m3 neighbours 2.0 (0x40, even) and 2.25 (0x41), so RNE gives 0x40; 2.0 is exact.
TEST_F(Cli, CompareTellsRoundingTieFlipsInOpFiles) {
  {
    H5Writer w(path("x.h5"));
    Tensor x = Tensor::make(Fmt::bf16, {1, 128}), block = Tensor::make(Fmt::i32, {});
    for (int i = 0; i < 128; ++i) x.as<uint16_t>()[i] = 0x3F80;  // 1.0
    x.as<uint16_t>()[0] = 0x43E0;                                 // 448
    x.as<uint16_t>()[7] = 0x4008;                                 // 2.125
    x.as<uint16_t>()[9] = 0x4000;                                 // 2.0
    block.as<int32_t>()[0] = 128;
    w.write("/x", x);
    w.write("/block", block);
    w.commit();
  }
  ASSERT_EQ(run("op act_quant --inputs " + path("x.h5") + " -o " + path("g.h5")).status, 0);
  const H5Reader g(path("g.h5"));
  ASSERT_EQ(g.read("/s").as<uint8_t>()[0], 127);
  ASSERT_EQ(g.read("/q").as<uint8_t>()[7], 0x40);
  ASSERT_EQ(g.read("/q").as<uint8_t>()[9], 0x40);
  auto candidate = [&](const std::string& name, int flip_at) {
    H5Writer w(path(name));
    write_file_meta(w, "op", "act_quant");  // a candidate must carry the magic and schema version
    for (const std::string& ds : g.datasets()) {
      TensorAttrs attrs;
      Tensor t = g.read(ds, std::nullopt, &attrs);
      if (ds == "/q") t.as<uint8_t>()[flip_at] = 0x41;
      w.write(ds, t, attrs);
    }
    w.commit();
  };
  candidate("tie.h5", 7);
  candidate("real.h5", 9);
  const CliRun tie = run("compare " + path("g.h5") + " " + path("tie.h5") + " --json " + path("tie.json"));
  EXPECT_EQ(tie.status, 1) << tie.err;
  EXPECT_NE(tie.out.find("on a rounding tie 1, not a tie 0"), std::string::npos) << tie.out;
  const CliRun real = run("compare " + path("g.h5") + " " + path("real.h5"));
  EXPECT_EQ(real.status, 1) << real.err;
  EXPECT_NE(real.out.find("on a rounding tie 0, not a tie 1"), std::string::npos) << real.out;
  EXPECT_NE(slurp(path("tie.json")).find("\"flips_on_tie\":1"), std::string::npos);
}

// Every subcommand's --help names its defaults, its exit statuses and one example (cli/commands.h
// add_help_footer); a command registered without the footer fails here. The commands are those the
// top-level --help lists, so a command added later is checked too.
TEST_F(Cli, EveryCommandsHelpShowsExitStatusAndAnExample) {
  const std::string top = run("--help").out;
  const size_t at = top.find("\nSubcommands:\n");
  ASSERT_NE(at, std::string::npos) << top;
  std::istringstream lines(top.substr(at + 14));
  std::vector<std::string> cmds;
  for (std::string line; std::getline(lines, line) && line.rfind("  ", 0) == 0;) {
    std::string name;
    std::istringstream(line) >> name;
    cmds.push_back(name);
  }
  for (const char* c : {"list", "cast", "op", "demo", "compare"})
    EXPECT_NE(std::find(cmds.begin(), cmds.end(), c), cmds.end()) << c << " not listed in:\n" << top;
  for (const std::string& cmd : cmds) {
    const CliRun r = run(cmd + " --help");
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.out.find("Exit status: 0 "), std::string::npos) << cmd << ":\n" << r.out;
    EXPECT_NE(r.out.find("Example: v4oracle " + std::string(cmd)), std::string::npos) << cmd << ":\n" << r.out;
  }
  // Defaults shown: a value the command falls back to, as CLI11 prints it.
  EXPECT_NE(run("compare --help").out.find("TEXT=bitwise"), std::string::npos);
  EXPECT_NE(run("compare --help").out.find("INT:INT in [1 - 4096]=64"), std::string::npos);
  EXPECT_NE(run("cast --help").out.find("=satfinite"), std::string::npos);
  EXPECT_NE(run("demo --help").out.find("=v4oracle-demo"), std::string::npos);
}
