// The Python dump helper (python/v4oracle_dump.py) end to end: a C++ op golden, candidates written by
// the helper from numpy arrays (output only; bf16 as int16 codes; float32 rounded by the helper's
// to_bf16), compared by the comparator; to_bf16 checked against reference/formats.h bf16_encode on a
// million bit patterns (two independent implementations of one rule). Skipped without /usr/bin/python3
// with h5py and numpy; the torch hook part runs only where torch is installed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>

#include "compare/compare.h"
#include "golden/file_meta.h"
#include "reference/formats.h"
#include "tests/support/temp_dir.h"

using namespace v4;
using namespace v4::golden;
using namespace v4::compare;

namespace {

class PythonDump : public v4::test::TempDirTest {
 protected:
  void SetUp() override {
    if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
      GTEST_SKIP() << "/usr/bin/python3 with h5py and numpy absent";
  }
  // Runs a script with python/ on sys.path; "" on success, else its output.
  std::string python(const std::string& body) {
    const std::string py = path("s.py"), out = path("s.out");
    std::ofstream(py) << "import sys\nsys.path.insert(0, '" V4ORACLE_SOURCE_DIR "/python')\n" << body;
    const int rc = std::system(("/usr/bin/python3 " + py + " >" + out + " 2>&1").c_str());
    std::ifstream f(out);
    const std::string s((std::istreambuf_iterator<char>(f)), {});
    return rc == 0 ? "" : "python failed: " + s;
  }
};

}  // namespace

TEST_F(PythonDump, NumpyCandidatesCompareEndToEnd) {
  // Golden: input /a f32 [4, 8], outputs /c f32 [4, 8] and /y bf16 [4, 8] (y = bf16(c)).
  Tensor a = Tensor::make(Fmt::f32, {4, 8}), c = Tensor::make(Fmt::f32, {4, 8}), y = Tensor::make(Fmt::bf16, {4, 8});
  for (int64_t i = 0; i < 32; ++i) {
    a.as<float>()[i] = float(i) * 0.5f - 3.0f;
    c.as<float>()[i] = std::ldexp(float(i + 1) * 1.37f, int(i % 7) - 3) * (i % 3 ? 1.0f : -1.0f);
    y.as<uint16_t>()[i] = bf16_encode(c.as<float>()[i]);
  }
  {
    H5Writer w(path("g.h5"));
    write_file_meta(w, "op", "dump_test");
    w.set_root_attr(kAttrOutputs, "/c,/y");
    w.write("/a", a);
    w.write("/c", c);
    w.write("/y", y);
    w.commit();
  }
  ASSERT_EQ(python("import h5py, numpy as np\n"
                   "from v4oracle_dump import write_candidate, to_bf16\n"
                   "g = h5py.File('" + path("g.h5") + "', 'r')\n"
                   "c = g['c'][()]\n"
                   "y16 = g['y'][()].view(np.int16)\n"  // what tensor.view(torch.int16) gives
                   "write_candidate('" + path("codes.h5") + "', {'/c': c, '/y': y16}, formats={'/y': 'bf16'})\n"
                   "with h5py.File('" + path("plain16.h5") + "', 'w') as f: f['y'] = y16\n"  // no attributes at all
                   "write_candidate('" + path("rounded.h5") + "', {'y': c}, formats={'/y': 'bf16-from-f32'})\n"
                   // to_bf16 on values whose rounding is known by hand: ties to even, NaN, overflow.
                   "t = to_bf16(np.array([1 + 2**-8, 1 + 3 * 2**-8, np.nan, 3.4e38, -0.0], np.float32))\n"
                   "assert list(t) == [0x3F80, 0x3F82, 0x7FFF, 0x7F80, 0x8000], [hex(v) for v in t]\n"
                   // A million bit patterns for the C++ cross-check: every exponent, ties included.
                   "rng = np.random.default_rng(5)\n"
                   "u = rng.integers(0, 2**32, 1 << 20, dtype=np.uint64).astype(np.uint32)\n"
                   "u[:65536] = (u[:65536] & 0xFFFF0000) | 0x8000\n"  // exact midpoints
                   "with h5py.File('" + path("rne.h5") + "', 'w') as f:\n"
                   "  f['u'] = u.view(np.int32)\n"
                   "  f['b'] = to_bf16(u.view(np.float32)).astype(np.int32)\n"),
            "");
  CompareOptions o;
  const CompareResult r = compare_files(path("g.h5"), path("codes.h5"), o);
  EXPECT_TRUE(r.pass());
  ASSERT_EQ(r.tensors.size(), 2u);
  EXPECT_EQ(r.not_in_candidate, std::vector<std::string>{"/a"});
  EXPECT_EQ(r.candidate_meta.kind, "candidate");
  EXPECT_EQ(r.candidate_meta.name, "v4oracle_dump.py");
  // A plain h5py file holding the int16 codes without any attribute: read as bf16 codes, same bits.
  const CompareResult r16 = compare_files(path("g.h5"), path("plain16.h5"), o);
  EXPECT_TRUE(r16.pass());
  ASSERT_EQ(r16.tensors.size(), 1u);
  EXPECT_EQ(r16.tensors[0].stats.bit_equal, 32);
  const CompareResult r2 = compare_files(path("g.h5"), path("rounded.h5"), o);
  EXPECT_TRUE(r2.pass());
  ASSERT_EQ(r2.tensors.size(), 1u);
  EXPECT_EQ(r2.tensors[0].path, "/y");

  H5Reader rne(path("rne.h5"));
  const Tensor u = rne.read("/u"), b = rne.read("/b");
  int64_t mismatches = 0;
  for (int64_t i = 0; i < u.numel(); ++i)
    mismatches += bf16_encode(f32_from_bits(uint32_t(u.as<int32_t>()[i]))) != uint16_t(b.as<int32_t>()[i]);
  EXPECT_EQ(u.numel(), int64_t(1) << 20);
  EXPECT_EQ(mismatches, 0);
}

TEST_F(PythonDump, TorchForwardHooksWhereTorchIsInstalled) {
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) GTEST_SKIP() << "torch absent";
  ASSERT_EQ(python("import torch, h5py, numpy as np\n"
                   "from v4oracle_dump import DumpHooks\n"
                   "m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())\n"
                   "x = torch.randn(2, 4)\n"
                   "with DumpHooks(m, {'0': '/layers/0/lin/out', '1': '/layers/0/act/out'}) as d:\n"
                   "  y = m(x)\n"
                   "d.write('" + path("t.h5") + "')\n"
                   "f = h5py.File('" + path("t.h5") + "', 'r')\n"
                   "assert np.array_equal(f['layers/0/act/out'][()], y.detach().numpy())\n"
                   "assert f['layers/0/lin/out'].attrs['format'] == 'f32'\n"),
            "");
}
