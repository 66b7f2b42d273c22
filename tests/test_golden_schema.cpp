// The golden schema (golden/file_meta, golden/golden_schema): same (config, seed, recipe, version) =>
// byte-identical file; root metadata validated with one-line errors; semantic links round-trip by every
// write path (as tensor_io extra attributes); raw extents point at the data bytes; and the documented
// h5py example writes a candidate that the comparator accepts bit for bit against a golden built
// independently here in C++.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/wait.h>

#include <algorithm>
#include <fstream>
#include <numeric>

#include "compare/compare.h"
#include "golden/golden_schema.h"
#include "reference/formats.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

using namespace v4;
using namespace v4::golden;

namespace {

class GoldenSchema : public v4::test::TempDirTest {};

std::string slurp(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// A golden from (config, seed, recipe): every tensor a function of the seed (SplitMix64).
void write_seeded_golden(const std::string& file, uint64_t seed) {
  GoldenMeta m;
  m.name = "tiny";
  m.config_json = "{\"name\":\"tiny\",\"layers\":2,\"dim\":64}";
  m.seed = int64_t(seed);
  m.recipe = "canonical";
  m.release_switches_json = "{\"shared_expert_clamp\":true,\"kv_fp8_sim\":true}";
  GoldenWriter w(file, m);
  uint64_t s = seed;
  auto next = [&] {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int L = 0; L < 2; ++L) {
    Tensor x = Tensor::make(Fmt::bf16, {8, 64});
    for (int64_t i = 0; i < x.numel(); ++i) x.as<uint16_t>()[i] = uint16_t(next());
    w.write_layer(L, "rmsnorm", "y", x);
    Tensor sc = Tensor::make(Fmt::f32, {8, 32}), tk = Tensor::make(Fmt::i32, {8, 4});
    for (int64_t i = 0; i < sc.numel(); ++i) sc.as<float>()[i] = float(next() % 1000);
    for (int64_t i = 0; i < tk.numel(); ++i) tk.as<int32_t>()[i] = int32_t(next() % 32);
    w.write_layer(L, "indexer", "scores", sc);
    w.write_layer(L, "indexer", "topk", tk, {}, {kKindTopkIndices, golden_layer_path(L, "indexer", "scores"), ""});
    // Streamed: the writer's other path.
    H5DatasetStream st = w.begin_dataset(golden_layer_path(L, "ffn", "h"), Fmt::f32, {100, 16});
    std::vector<float> rows(16 * 10);
    for (int r = 0; r < 100; r += 10) {
      for (float& v : rows) v = float(int64_t(next() % 2001) - 1000) / 8.0f;
      st.write_rows(r, 10, rows.data());
    }
    st.finish();
  }
  w.commit();
}

}  // namespace

TEST_F(GoldenSchema, SameConfigSeedRecipeVersionGivesByteIdenticalFiles) {
  write_seeded_golden(path("a.h5"), 42);
  write_seeded_golden(path("b.h5"), 42);
  write_seeded_golden(path("c.h5"), 43);
  const std::string a = slurp(path("a.h5")), b = slurp(path("b.h5")), c = slurp(path("c.h5"));
  ASSERT_GT(a.size(), 10000u);
  EXPECT_TRUE(a == b) << "same inputs, different bytes";
  EXPECT_FALSE(a == c);
  // And the hashes attest the data: every dataset verifies.
  H5Reader r(path("a.h5"));
  for (const std::string& d : r.datasets()) EXPECT_TRUE(r.verify_hash(d)) << d;
}

TEST_F(GoldenSchema, CliOpOutputIsByteIdenticalForTheSameSeed) {
  const char* bin = std::getenv("V4ORACLE_BIN");
  const std::string exe = bin ? bin : std::string(V4ORACLE_BINARY_DIR) + "/cli/v4oracle";
  const std::string list = exe + " --help 2>/dev/null | grep -qE '^ +op +'";
  if (std::system(list.c_str()) != 0) GTEST_SKIP() << "this v4oracle has no `op` command";
  for (const char* n : {"x.h5", "y.h5"})
    ASSERT_EQ(std::system((exe + " op act_quant --seed 9 -o " + path(n) + " >/dev/null").c_str()), 0);
  EXPECT_TRUE(slurp(path("x.h5")) == slurp(path("y.h5")));
  // The comparator walks such root-level files too: a file equals itself, and a copy with one code
  // changed in the first dataset diverges exactly there.
  compare::CompareOptions o;
  EXPECT_TRUE(compare::compare_files(path("x.h5"), path("y.h5"), o).pass());
  {
    H5Reader r(path("x.h5"));
    H5Writer w(path("z.h5"));
    write_file_meta(w, "candidate", "edited");
    const std::vector<std::string> ds = r.datasets();
    for (size_t i = 0; i < ds.size(); ++i) {
      TensorAttrs a;
      Tensor t = r.read(ds[i], std::nullopt, &a);
      if (i == 0) t.data.at(t.stored_bytes() > 5 * int64_t(fmt_storage_size(t.fmt)) ? 5 * fmt_storage_size(t.fmt) : 0) ^= 0x01;
      w.write(ds[i], t, a);
    }
    w.commit();
    const compare::CompareResult res = compare::compare_files(path("x.h5"), path("z.h5"), o);
    ASSERT_FALSE(res.pass());
    EXPECT_EQ(res.tensors[size_t(res.verdict())].path, ds[0]);
    EXPECT_EQ(res.tensors[size_t(res.verdict())].layer, "act_quant");
  }
}

TEST_F(GoldenSchema, RootMetadataRoundTripsAndIsValidated) {
  write_seeded_golden(path("g.h5"), 5);
  const FileMeta m = check_file_meta(H5Reader(path("g.h5")));
  EXPECT_EQ(m.schema_version, 1);
  EXPECT_EQ(m.kind, "golden");
  EXPECT_EQ(m.name, "tiny");
  EXPECT_EQ(m.seed, 5);
  EXPECT_EQ(m.recipe, "canonical");
  EXPECT_EQ(m.config_json, "{\"name\":\"tiny\",\"layers\":2,\"dim\":64}");
  EXPECT_EQ(m.release_switches_json, "{\"shared_expert_clamp\":true,\"kv_fp8_sim\":true}");
  EXPECT_FALSE(m.generator_version.empty());
  EXPECT_FALSE(m.generator_commit.empty());

  const auto err = [&](const std::function<void(H5Writer&)>& meta) {
    const std::string p = path("bad.h5");
    {
      H5Writer w(p);
      meta(w);
      w.write("/a", Tensor::make(Fmt::f32, {1}));
      w.commit();
    }
    try {
      check_file_meta(H5Reader(p));
    } catch (const InputError& e) {
      EXPECT_EQ(e.file, p);
      EXPECT_EQ(e.dataset, "");
      return e.problem.substr(0, e.problem.find(" (regenerate"));
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(err([](H5Writer&) {}), "no root attribute 'magic' = \"v4oracle\"; not a v4oracle file");
  EXPECT_EQ(err([](H5Writer& w) { w.set_root_attr("magic", "v4oracle-golden"); }),
            "root attribute 'magic' is \"v4oracle-golden\", expected \"v4oracle\"");
  EXPECT_EQ(err([](H5Writer& w) { w.set_root_attr("magic", "v4oracle"); }), "no root attribute 'schema_version'");
  EXPECT_EQ(err([](H5Writer& w) {
              w.set_root_attr("magic", "v4oracle");
              w.set_root_attr("schema_version", int64_t(0));
            }),
            "schema_version 0 is not supported (this v4oracle reads 1)");
  EXPECT_EQ(err([](H5Writer& w) {
              w.set_root_attr("magic", "v4oracle");
              w.set_root_attr("schema_version", int64_t(1));
            }),
            "(accepted)");
}

TEST_F(GoldenSchema, LinksAndRawExtents) {
  write_seeded_golden(path("g.h5"), 3);
  H5Reader r(path("g.h5"));
  SchemaReader s(r);
  EXPECT_EQ(s.links("/layers/1/indexer/topk"), (TensorLinks{kKindTopkIndices, "/layers/1/indexer/scores", ""}));
  EXPECT_TRUE(s.links("/layers/1/indexer/scores").empty());
  // pread at the raw extent returns exactly the bytes H5Reader reads.
  for (const char* d : {"/layers/0/rmsnorm/y", "/layers/1/ffn/h"}) {
    const TensorInfo info = r.info(d);
    const std::optional<RawExtent> ext = info.raw;
    ASSERT_TRUE(ext.has_value()) << d;
    ASSERT_EQ(ext->bytes, uint64_t(info.stored_bytes));
    const std::string all = slurp(path("g.h5"));
    const Tensor t = r.read(d);
    EXPECT_EQ(all.compare(size_t(ext->offset), size_t(ext->bytes), reinterpret_cast<const char*>(t.data.data()), t.data.size()), 0);
  }
  // The links are plain extra string attributes to tensor_io.
  EXPECT_EQ(r.info("/layers/1/indexer/topk").attrs.extra,
            (std::vector<std::pair<std::string, std::string>>{{"kind", "topk_indices"}, {"scores", "/layers/1/indexer/scores"}}));
  // A writer refuses links that the reader would reject.
  GoldenWriter w(path("x.h5"), GoldenMeta{});
  EXPECT_THROW(w.write("/a", Tensor::make(Fmt::i32, {2, 2}), {}, {kKindTopkIndices, "", ""}), std::invalid_argument);
  EXPECT_THROW(w.write("/b", Tensor::make(Fmt::i32, {2, 2}), {}, {"routing", "/s", ""}), std::invalid_argument);
  EXPECT_THROW(golden_attach_links(w.h5(), "/c", {"routing", "/s", ""}), std::invalid_argument);
}

// Links written by every path -- GoldenWriter::write after the caller's own extras, a streamed dataset,
// golden_attach_links on a plain H5Writer (what `v4oracle op` does) -- read back through SchemaReader and
// as H5Reader extras in the documented order. A link attribute that is not a single string is an
// InputError, not a silently missing link.
TEST_F(GoldenSchema, LinksByEveryWritePath) {
  using Extra = std::vector<std::pair<std::string, std::string>>;
  {
    GoldenWriter w(path("g.h5"), GoldenMeta{});
    w.write("/v", Tensor::make(Fmt::f32, {2, 4}));
    w.write("/q", Tensor::make(Fmt::e4m3fn, {2, 4}), {"", {}, {{"note", "n"}}}, {"", "", "/v"});
    H5DatasetStream st = w.begin_dataset("/t", Fmt::i32, {2, 1}, {}, {kKindTopkIndices, "/v", ""});
    st.write_rows(0, 2, Tensor::make(Fmt::i32, {2, 1}).data.data());
    st.finish();
    w.commit();
  }
  {
    H5Writer w(path("op.h5"));
    w.write("/v", Tensor::make(Fmt::f32, {2, 4}));
    w.write("/q", Tensor::make(Fmt::e4m3fn, {2, 4}));
    golden_attach_links(w, "/q", {"", "", "/v"});
    EXPECT_THROW(golden_attach_links(w, "/absent", {"", "", "/v"}), std::invalid_argument);
    golden_attach_links(w, "/absent", {});  // nothing to attach: nothing checked
    w.commit();
  }
  H5Reader gr(path("g.h5")), opr(path("op.h5"));
  SchemaReader g(gr), op(opr);
  EXPECT_EQ(g.links("/q"), (TensorLinks{"", "", "/v"}));
  EXPECT_EQ(gr.info("/q").attrs.extra, (Extra{{"note", "n"}, {"source", "/v"}}));
  EXPECT_EQ(g.links("/t"), (TensorLinks{kKindTopkIndices, "/v", ""}));
  EXPECT_EQ(op.links("/q"), (TensorLinks{"", "", "/v"}));
  EXPECT_EQ(opr.info("/q").attrs.extra, (Extra{{"source", "/v"}}));
  EXPECT_TRUE(op.links("/v").empty());

  const std::string bad = path("bad.h5");
  {
    H5Writer w(bad);
    w.write("/t", Tensor::make(Fmt::i32, {2, 1}));
    w.commit();
  }
  {
    const hid_t f = H5Fopen(bad.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), d = H5Dopen2(f, "/t", H5P_DEFAULT);
    const hid_t s = H5Screate(H5S_SCALAR), a = H5Acreate2(d, "kind", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
    const int32_t one = 1;
    H5Awrite(a, H5T_NATIVE_INT32, &one);
    H5Aclose(a), H5Sclose(s), H5Dclose(d), H5Fclose(f);
  }
  try {
    const H5Reader r(bad);
    SchemaReader(r).links("/t");
    ADD_FAILURE() << "accepted an integer 'kind'";
  } catch (const InputError& e) {
    EXPECT_EQ(e.problem, "attribute 'kind' should be a single string");
  }
}

// docs/golden-schema.md's Python example writes a valid candidate; built here independently from the
// same formulas with the C++ format encoders, the golden must match it bit for bit, whether the
// candidate is stored contiguous or chunked + gzip (the comparator's HDF5 fallback path).
TEST_F(GoldenSchema, PythonExampleWritesAValidCandidate) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not installed (Debian python3-h5py python3-numpy)";
  GoldenMeta meta;
  meta.name = "example";
  {
    GoldenWriter w(path("golden.h5"), meta);
    Tensor y = Tensor::make(Fmt::bf16, {4, 8});
    for (int i = 0; i < 32; ++i) y.as<uint16_t>()[i] = bf16_encode(float(i - 16) * 0.3f);
    w.write("/layers/0/rmsnorm/y", y);
    Tensor q = Tensor::make(Fmt::e4m3fn, {4, 256}), s = Tensor::make(Fmt::ue8m0, {4, 2});
    for (int j = 0; j < 4 * 256; ++j) q.as<uint8_t>()[j] = fp8_e4m3_encode(float((j * 7) % 33 - 16) * 0.25f, Sat::satfinite);
    std::fill(s.data.begin(), s.data.end(), uint8_t(127));
    w.write("/layers/0/act_quant/q", q, {"/layers/0/act_quant/s", {1, 128}});
    w.write("/layers/0/act_quant/s", s);
    Tensor sc = Tensor::make(Fmt::f32, {4, 16}), tk = Tensor::make(Fmt::i32, {4, 4});
    for (int r = 0; r < 4; ++r) {
      for (int c = 0; c < 16; ++c) sc.as<float>()[r * 16 + c] = float((c * 5 + r * 3) % 16);
      std::vector<int> idx(16);
      std::iota(idx.begin(), idx.end(), 0);
      std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return sc.as<float>()[r * 16 + a] > sc.as<float>()[r * 16 + b]; });
      for (int k = 0; k < 4; ++k) tk.as<int32_t>()[r * 4 + k] = idx[size_t(k)];
    }
    w.write("/layers/0/indexer/scores", sc);
    w.write("/layers/0/indexer/topk", tk, {}, {kKindTopkIndices, "/layers/0/indexer/scores", ""});
    Tensor fp4 = Tensor::make(Fmt::e2m1x2, {2, 5});
    for (int r = 0; r < 2; ++r)
      for (int c = 0; c < 5; ++c) fp4_e2m1_set(fp4.data.data() + r * fp4_e2m1_row_bytes(5), c, uint8_t((r * 5 + c) * 3 % 16));
    w.write("/layers/0/fp4/w", fp4);
    w.commit();
  }
  const std::string script = std::string(V4ORACLE_SOURCE_DIR) + "/scripts/write_candidate_example.py";
  for (const std::string flag : {"", " --compress"}) {
    const std::string cand = path("cand.h5");
    ASSERT_EQ(std::system(("/usr/bin/python3 " + script + " " + cand + flag).c_str()), 0);
    compare::CompareOptions o;
    const compare::CompareResult r = compare::compare_files(path("golden.h5"), cand, o);
    EXPECT_TRUE(r.pass()) << flag << ": " << (r.verdict() >= 0 ? r.tensors[size_t(r.verdict())].why : "");
    EXPECT_EQ(r.tensors.size(), 6u);
    for (const auto& t : r.tensors) EXPECT_EQ(t.stats.bit_equal, t.stats.n) << flag << t.path;
    EXPECT_EQ(r.candidate_meta.kind, "candidate");
  }
}

// The shell example of docs/golden-schema.md runs as written: the ```sh block after the test's marker is
// taken from the doc and run by bash -e in a fresh directory that holds only a link to scripts/, with
// the v4oracle under test first on PATH; it must end with status 0 and the comparator's OK line.
TEST_F(GoldenSchema, DocExampleRunsAsWritten) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy is not installed (Debian python3-h5py python3-numpy)";
  const std::string doc = v4::test::slurp(std::string(V4ORACLE_SOURCE_DIR) + "/docs/golden-schema.md");
  const size_t marker = doc.find("(DocExampleRunsAsWritten) -->");
  ASSERT_NE(marker, std::string::npos) << "marker missing in docs/golden-schema.md";
  const size_t open = doc.find("```sh\n", marker), close = doc.find("\n```", open + 6);
  ASSERT_NE(open, std::string::npos);
  ASSERT_NE(close, std::string::npos);
  const std::string block = doc.substr(open + 6, close + 1 - (open + 6));
  EXPECT_NE(block.find("v4oracle compare"), std::string::npos) << block;
  std::filesystem::create_directory_symlink(std::string(V4ORACLE_SOURCE_DIR) + "/scripts", dir_ / "scripts");
  std::ofstream(path("example.sh")) << "set -eo pipefail\n" << block;
  const std::string bin_dir = std::filesystem::path(v4::test::v4oracle_binary()).parent_path().string();
  const int rc = std::system(("cd " + dir_.string() + " && PATH=" + bin_dir + ":$PATH bash example.sh >out.txt 2>&1").c_str());
  const std::string out = v4::test::slurp(path("out.txt"));
  EXPECT_TRUE(WIFEXITED(rc) && WEXITSTATUS(rc) == 0) << out;
  EXPECT_NE(out.find("v4oracle compare: OK: 2 tensors within policy"), std::string::npos) << out;
}
