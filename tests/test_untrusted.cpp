// Untrusted inputs and hostile output paths (issue: contain libhdf5, refuse external storage, bound memory,
// safe temp files, the exit-code contract). Every case runs the real binary or the real writer and checks
// the promise from the outside: exit status, one stderr line, what is (not) left in the directory.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "golden/h5_util.h"
#include "golden/output_file.h"
#include "golden/tensor_io.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace v4;
using namespace v4::golden;

namespace {

using v4::test::CliRun;
using v4::test::slurp;

bool is_temp_name(const std::string& name) {
  return name.find(".v4tmp-") != std::string::npos || name.find(".tmp.") != std::string::npos;
}

// Wall-clock bound of one refused command, in seconds. The slowest refusals are the corrupt files on which
// libhdf5 hangs: the inspector's watchdog (kTestInspectTimeoutS here) stops them. Measured with the
// ASan + UBSan binary (build-asan/, the slower of the two builds) on the shared 2-core development machine
// at load average 7: every command on every corrupt file took 3.08 to 3.12 s when libhdf5 hung and 0.07
// to 0.10 s when it crashed; the generated hostile files about 0.3 s per command on average. The 12 s
// beyond the watchdog are 100 times the worst measured overshoot (0.12 s), for a slower CI machine; a
// real hang still fails.
constexpr int kTestInspectTimeoutS = 3;
constexpr double kRefusalSeconds = kTestInspectTimeoutS + 12.0;

class Untrusted : public v4::test::TempDirTest {
 protected:
  // `prefix` goes before the binary (e.g. "ulimit -f 4;"); stdout/stderr are captured outside dir_'s listing.
  CliRun run(const std::string& args, const std::string& prefix = "") const {
    return v4::test::run_cli(args, cap_.dir(), prefix);
  }
  static int lines(const std::string& s) { return int(std::count(s.begin(), s.end(), '\n')); }
  void expect_no_temps(const fs::path& d) const {
    for (const auto& entry : fs::directory_iterator(d))
      EXPECT_FALSE(is_temp_name(entry.path().filename().string())) << "left a temp file: " << entry.path();
  }
  // The promise for bad input (docs/hdf5-tensors.md §Untrusted files): `args` exits 2 within
  // kRefusalSeconds with one stderr line that names `file` and contains `fragment`, leaves no output file
  // (r.json, out.h5) and no temp file in dir_.
  void expect_refused_by(const std::string& args, const std::string& file, const std::string& fragment = "") const {
    const CliRun r = run(args, "V4ORACLE_INSPECT_TIMEOUT_S=" + std::to_string(kTestInspectTimeoutS));
    EXPECT_EQ(r.status, 2) << args << "\n" << r.err;
    EXPECT_EQ(lines(r.err), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(fs::path(file).filename().string()), std::string::npos) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(fragment), std::string::npos) << "missing '" << fragment << "' in " << r.err;
    EXPECT_LT(r.seconds, kRefusalSeconds) << args;
    EXPECT_FALSE(fs::exists(path("r.json"))) << args;
    EXPECT_FALSE(fs::exists(path("out.h5"))) << args;
    expect_no_temps(dir_);
  }
  // Every command that reads an input file, on `file`: compare (as golden and candidate, and as the
  // candidate of a valid golden), op replay and cast.
  void expect_input_refused(const std::string& file, const std::string& good, const std::string& fragment = "") const {
    expect_refused_by("compare " + file + " " + file + " --json " + path("r.json"), file, fragment);
    expect_refused_by("compare " + good + " " + file + " --json " + path("r.json"), file, fragment);
    expect_refused_by("op fp8_gemm --inputs " + file + " -o " + path("out.h5"), file, fragment);
    expect_refused_by("cast --to e4m3fn --inputs " + file + " --dataset a -o " + path("out.h5"), file);
  }
  std::string make_op_file(const std::string& name) {
    const std::string p = path(name);
    EXPECT_EQ(run("op fp8_gemm --seed 5 --shape M=4 N=128 K=128 -o " + p).status, 0);
    return p;
  }

  v4::test::TempDir cap_;  // captured stdout/stderr, kept apart from the directory under test
};

// ---------------------------------------------------------------------------------------------
// 1. Temp files and output paths
// ---------------------------------------------------------------------------------------------

// The old temp name `<out>.tmp.<pid>` was predictable and opened with truncation, following links: a
// link planted there made the writer overwrite the link's target.
TEST_F(Untrusted, PlantedLinkAtThePredictableTempNameIsNotFollowed) {
  const std::string victim = path("victim.txt"), out = path("out.h5");
  { std::ofstream(victim) << "precious"; }
  fs::create_symlink(victim, out + ".tmp." + std::to_string(long(::getpid())));
  {
    H5Writer w(out);
    w.write("/x", Tensor::make(Fmt::f32, {4}));
    w.commit();
  }
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_TRUE(H5Reader(out).has("/x"));
}

TEST_F(Untrusted, TempNamesAreExclusiveUnpredictableAndBesideTheTarget) {
  const std::string out = path("o.h5");
  H5Writer a(out), b(out);
  EXPECT_NE(a.temp_path(), b.temp_path());
  EXPECT_EQ(fs::path(a.temp_path()).parent_path(), fs::path(out).parent_path());
  const std::string name = fs::path(a.temp_path()).filename().string();
  EXPECT_EQ(name.rfind(".o.h5.v4tmp-" + std::to_string(long(::getpid())) + "-", 0), 0u) << name;
  EXPECT_EQ(name.size(), std::string(".o.h5.v4tmp-").size() + std::to_string(long(::getpid())).size() + 1 + 16);
  struct stat st;
  ASSERT_EQ(::lstat(a.temp_path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

// SIGTERM and SIGINT while a writer holds a temp file: the temp file is removed and the process still
// dies of the signal.
TEST_F(Untrusted, SignalsRemoveTempFiles) {
  for (int sig : {SIGTERM, SIGINT}) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      H5Writer w(path("sig.h5"));
      w.write("/x", Tensor::make(Fmt::f32, {1000}));
      const std::string t = w.temp_path() + "\n";
      if (::write(fds[1], t.data(), t.size()) < 0) ::_exit(9);
      for (;;) ::pause();
    }
    ::close(fds[1]);
    std::string temp;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') temp += c;
    ::close(fds[0]);
    ASSERT_FALSE(temp.empty());
    EXPECT_TRUE(fs::exists(temp));
    ::kill(pid, sig);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == sig) << status;
    EXPECT_FALSE(fs::exists(temp)) << "signal " << sig;
    EXPECT_FALSE(fs::exists(path("sig.h5")));
  }
}

TEST_F(Untrusted, OutputThatIsADirectoryIsExitTwoBeforeComputing) {
  const std::string g = make_op_file("g.h5");
  fs::create_directory(path("d"));
  CliRun r = run("compare " + g + " " + g + " --json " + path("d"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("directory"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");  // nothing was compared
  r = run("op fp8_gemm --seed 1 -o " + path("d"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  r = run("op fp8_gemm --seed 1 -o " + path("nodir/x.h5"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_TRUE(fs::is_empty(path("d")));
  expect_no_temps(dir_);
}

TEST_F(Untrusted, AnOutputThatIsAnInputIsRefused) {
  const std::string g = make_op_file("g.h5");
  const std::string before = slurp(g);
  fs::create_hard_link(g, path("g_link.h5"));             // the same inode under another name
  fs::create_symlink(g, path("g_sym.h5"));                // a symbolic link to the input
  fs::create_directory_symlink(dir_, path("alias"));      // the input's directory under another name
  const std::string alias = path("alias") + "/g.h5";
  for (const std::string& out : {g, path("g_link.h5"), path("g_sym.h5"), alias}) {
    expect_refused_by("compare " + g + " " + g + " --json " + out, out, "input");
    expect_refused_by("compare " + g + " " + g + " --text " + out, out, "input");
    expect_refused_by("compare " + g + " " + g + " --html " + out, out, "input");
    expect_refused_by("op fp8_gemm --inputs " + g + " -o " + out, out, "input");
    expect_refused_by("cast --to e4m3fn --inputs " + g + " --dataset a -o " + out, out, "input");
  }
  EXPECT_EQ(slurp(g), before);
  EXPECT_TRUE(fs::is_symlink(path("g_sym.h5")));
}

// A failing --html must not leave r.json (all reports or none).
TEST_F(Untrusted, ReportsAreAllOrNone) {
  const std::string g = make_op_file("g.h5");
  const CliRun r = run("compare " + g + " " + g + " --json " + path("r.json") + " --html " + path("nodir/r.html"));
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("r.json")));
  expect_no_temps(dir_);
}

TEST_F(Untrusted, DashIsStandardOutput) {
  const std::string g = make_op_file("g.h5");
  CliRun r = run("compare " + g + " " + g + " --json -");
  EXPECT_EQ(r.status, 0) << r.err;
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.front(), '{') << r.out.substr(0, 80);
  EXPECT_EQ(r.out.substr(r.out.find_last_not_of("\n") , 1), "}");
  EXPECT_FALSE(fs::exists(path("-")));
  EXPECT_FALSE(fs::exists("-"));
  r = run("op fp8_gemm --seed 5 --shape M=4 N=128 K=128 -o -");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, slurp(g));  // byte-identical to the file written by name
  EXPECT_EQ(run("compare " + g + " " + g + " --json - --text -").status, 2);
}

// A device, or a link to one, is written in place: the link and the device stay what they were.
TEST_F(Untrusted, DevicesAndLinksToDevicesAreWrittenInPlace) {
  fs::create_symlink("/dev/null", path("null_link"));
  const std::string g = make_op_file("g.h5");
  CliRun r = run("op fp8_gemm --seed 5 --shape M=4 N=128 K=128 -o " + path("null_link"));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(path("null_link")));
  r = run("compare " + g + " " + g + " --json " + path("null_link") + " --html /dev/null");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::is_symlink(path("null_link")));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  expect_no_temps(dir_);
}

// Disk full: one line and exit 4 (docs/cli.md), no output and no temp file left.
TEST_F(Untrusted, DiskFullIsOneLineAndExitFour) {
  const std::string g = make_op_file("g.h5");
  CliRun r = run("op fp8_gemm --seed 5 -o /dev/full");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("/dev/full"), std::string::npos) << r.err;
  r = run("compare " + g + " " + g + " --json /dev/full");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  // A regular file on a full disk: RLIMIT_FSIZE makes writes past 8 KiB fail (EFBIG) like ENOSPC does.
  r = run("op fp8_gemm --seed 5 --shape M=64 N=256 K=512 -o " + path("big.h5"), "trap \"\" XFSZ; ulimit -f 8;");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("big.h5")));
  r = run("compare " + g + " " + g + " --html " + path("r.html"), "trap \"\" XFSZ; ulimit -f 1;");
  EXPECT_EQ(r.status, 4) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(path("r.html")));
  expect_no_temps(dir_);
}

// ---------------------------------------------------------------------------------------------
// 2 and 3. External storage, external links, declared sizes the file cannot hold
// ---------------------------------------------------------------------------------------------

// Rewrites dataset `ds` of an HDF5 file (a copy of a valid op file) with a hostile definition: `make`
// gets the open file and creates `ds` anew (the old one is unlinked first); format/logical_shape
// attributes of the old dataset are copied when `copy_attrs`.
template <class Make>
void replace_dataset(const std::string& file, const std::string& ds, Make make, bool copy_attrs = true) {
  h5::hdf5_silence();
  h5::Hid f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  ASSERT_TRUE(f.ok());
  std::string format;
  std::vector<int64_t> logical;
  {
    h5::Hid d(H5Dopen2(f, ds.c_str(), H5P_DEFAULT), H5Dclose);
    ASSERT_TRUE(d.ok());
    const std::string name = file;
    const h5::Where w{name, ds};
    format = h5::read_str_attr(d, "format", w).value_or("");
    logical = h5::read_i64s_attr(d, "logical_shape", w).value_or(std::vector<int64_t>{});
  }
  ASSERT_GE(H5Ldelete(f, ds.c_str(), H5P_DEFAULT), 0);
  const hid_t d = make(hid_t(f));
  if (d >= 0) {
    if (copy_attrs && !format.empty()) h5::write_str_attr(d, "format", format);
    if (copy_attrs && !logical.empty()) h5::write_i64s_attr(d, "logical_shape", logical);
    H5Dclose(d);
  }
}

// Marks dataset `ds` of `file` as e4m3fn (a hostile dataset made without the old one's attributes).
void set_e4m3fn_format(const std::string& file, const std::string& ds) {
  h5::Hid f(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  h5::Hid d(H5Dopen2(f, ds.c_str(), H5P_DEFAULT), H5Dclose);
  h5::write_str_attr(d, "format", "e4m3fn");
}

hid_t make_u8_dataset(hid_t f, const char* name, std::vector<hsize_t> dims, hid_t dcpl) {
  h5::Hid space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose);
  return H5Dcreate2(f, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
}

class Hostile : public Untrusted {
 protected:
  // A valid fp8_gemm op file (a e4m3fn [4,128], ...) and a copy to make hostile.
  void SetUp() override {
    Untrusted::SetUp();
    good_ = make_op_file("good.h5");
  }
  std::string hostile(const std::string& name) {
    const std::string p = path(name);
    fs::copy_file(good_, p);
    return p;
  }
  void expect_refused(const std::string& file, const std::string& fragment) {
    expect_input_refused(file, good_, fragment);
  }
  std::string good_;
};

// External raw storage made `op` copy the first bytes of another file (/etc/passwd) into its output.
TEST_F(Hostile, ExternalRawStorageIsRefused) {
  const std::string secret = path("secret.bin");
  { std::ofstream(secret, std::ios::binary) << std::string(4 * 128, 'S'); }
  const std::string f = hostile("external.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_external(dcpl, secret.c_str(), 0, 4 * 128);
    return make_u8_dataset(file, "/a", {4, 128}, dcpl);
  });
  expect_refused(f, "external");
}

TEST_F(Hostile, ExternalLinksAreRefused) {
  const std::string f = hostile("elink.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    H5Lcreate_external(good_.c_str(), "/a", file, "/a", H5P_DEFAULT, H5P_DEFAULT);
    return hid_t(-1);
  });
  expect_refused(f, "external link");
}

TEST_F(Hostile, VirtualDatasetsAreRefused) {
  const std::string f = hostile("vds.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t dims[2] = {4, 128};
    h5::Hid vspace(H5Screate_simple(2, dims, nullptr), H5Sclose), sspace(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Pset_virtual(dcpl, vspace, good_.c_str(), "/a", sspace);
    return make_u8_dataset(file, "/a", {4, 128}, dcpl);
  });
  expect_refused(f, "virtual");
}

// A contiguous [2^20, 2^20] declaration whose storage was never allocated: before, std::bad_alloc (exit 3).
TEST_F(Hostile, HugeDeclarationWithoutDataIsOneLineExitTwo) {
  const std::string f = hostile("huge.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE);
    return make_u8_dataset(file, "/a", {hsize_t(1) << 20, hsize_t(1) << 20}, dcpl);
  }, /*copy_attrs=*/false);
  set_e4m3fn_format(f, "/a");
  expect_refused(f, "never written");
}

// Chunked [2^28] (and [2^40]) declarations with no chunk written: before, gigabytes of fill values.
TEST_F(Hostile, NeverWrittenChunksAreRefused) {
  for (const hsize_t n : {hsize_t(1) << 28, hsize_t(1) << 40}) {
    const std::string f = hostile("chunked_" + std::to_string(n) + ".h5");
    replace_dataset(f, "/a", [&](hid_t file) {
      h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
      const hsize_t chunk[2] = {1, 4096};
      H5Pset_chunk(dcpl, 2, chunk);
      return make_u8_dataset(file, "/a", {n, 4096}, dcpl);
    }, false);
    set_e4m3fn_format(f, "/a");
    expect_refused(f, "0 of its " + std::to_string(n) + " chunks were ever written");
  }
}

// Some chunks written, others not: the unwritten ones are an error, not zeros.
TEST_F(Hostile, PartlyWrittenChunkedDataIsRefused) {
  const std::string f = hostile("partial.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[2] = {2, 128};
    H5Pset_chunk(dcpl, 2, chunk);
    const hid_t d = make_u8_dataset(file, "/a", {4, 128}, dcpl);
    const hsize_t start[2] = {0, 0}, count[2] = {2, 128};
    h5::Hid fs_(H5Dget_space(d), H5Sclose), ms(H5Screate_simple(2, count, nullptr), H5Sclose);
    H5Sselect_hyperslab(fs_, H5S_SELECT_SET, start, nullptr, count, nullptr);
    std::vector<uint8_t> ones(256, 0x38);
    H5Dwrite(d, H5T_NATIVE_UINT8, ms, fs_, H5P_DEFAULT, ones.data());
    return d;
  });
  expect_refused(f, "1 of its 2 chunks");
}

// Chunks larger than the 64 MiB bound (HDF5 holds a whole chunk to read any part): refused before any
// chunk is touched, whatever was written.
TEST_F(Hostile, OversizedChunksAreRefused) {
  const std::string f = hostile("bigchunk.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[2] = {4, hsize_t(1) << 25};  // 128 MiB of uint8
    H5Pset_chunk(dcpl, 2, chunk);
    return make_u8_dataset(file, "/a", {4, hsize_t(1) << 25}, dcpl);
  }, /*copy_attrs=*/false);
  set_e4m3fn_format(f, "/a");
  expect_refused(f, "has chunks of more than 64 MiB");
}

// A filter other than deflate, shuffle and fletcher32 (here HDF5's built-in scale-offset) is refused:
// its decoder is more libhdf5 code run on hostile bytes in this process.
TEST_F(Hostile, OtherFiltersAreRefused) {
  const std::string f = hostile("scaleoffset.h5");
  std::vector<uint8_t> bytes;
  { const H5Reader r(good_); bytes = r.read("/a").data; }
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[2] = {4, 128};
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_scaleoffset(dcpl, H5Z_SO_INT, H5Z_SO_INT_MINBITS_DEFAULT);
    const hid_t d = make_u8_dataset(file, "/a", {4, 128}, dcpl);
    H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    return d;
  });
  expect_refused(f, "uses HDF5 filter");
}

// A file cut short: the contiguous data of its last datasets lies past the end.
TEST_F(Hostile, TruncatedFilesAreRefused) {
  const std::string f = hostile("truncated.h5");
  fs::resize_file(f, fs::file_size(f) / 2);
  expect_refused(f, "");
}

// A group where an op or the comparator expects a dataset is named as a group: "dataset missing" sent
// the user looking for a typo (op), and the comparator listed it as not in the candidate.
TEST_F(Hostile, AGroupWhereADatasetIsExpectedIsNamedAsAGroup) {
  const std::string f = hostile("group.h5");
  replace_dataset(f, "/a", [&](hid_t file) {
    H5Gclose(H5Gcreate2(file, "/a", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    h5::Hid space(H5Screate(H5S_SCALAR), H5Sclose);  // something inside, as a framework's module group has
    H5Dclose(H5Dcreate2(file, "/a/weight", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    return hid_t(-1);
  });
  expect_refused_by("op fp8_gemm --inputs " + f + " -o " + path("out.h5"), f,
                    "/a: is a group, not a dataset (expected e4m3fn)");
  expect_refused_by("compare " + good_ + " " + f + " --json " + path("r.json"), f,
                    "/a: is a group, not a dataset (the golden has e4m3fn [4, 128] here)");
  expect_refused_by("compare " + good_ + " " + f + " --require-all --json " + path("r.json"), f, "is a group");
  expect_refused_by("cast --to e4m3fn --inputs " + f + " --dataset a -o " + path("out.h5"), f, "is a group");
}

// A fully written chunked, deflated dataset is still read (the checks refuse only what the file cannot hold).
TEST_F(Hostile, WrittenChunkedDeflatedDataStillReads) {
  const std::string f = hostile("deflate.h5");
  std::vector<uint8_t> bytes;
  { const H5Reader r(good_); bytes = r.read("/a").data; }
  replace_dataset(f, "/a", [&](hid_t file) {
    h5::Hid dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
    const hsize_t chunk[2] = {2, 64};
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 6);
    const hid_t d = make_u8_dataset(file, "/a", {4, 128}, dcpl);
    H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
    return d;
  });
  const H5Reader r(f);
  EXPECT_EQ(r.read("/a").data, bytes);
}

// An empty tensor hashes without passing nullptr to memcpy (UBSan); SHA-256("") is the FIPS 180-4 value.
TEST(Sha256Empty, EmptyInputFromNullptr) {
  Sha256 h;
  h.update(nullptr, 0);
  EXPECT_EQ(h.hex_digest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// ---------------------------------------------------------------------------------------------
// 4. libhdf5 crashes and hangs on hostile files are contained
// ---------------------------------------------------------------------------------------------

// Every file of the corrupt-h5 folder crashed (SIGSEGV) or hung `v4oracle compare F F`; now every command
// answers with one line naming the file, exit 2, within the inspector's limit, and writes nothing.
TEST_F(Untrusted, CorruptFilesAreContained) {
  // The shared test data sits beside the checkout (../shared), or beside the worktree folder.
  fs::path corpus;
  for (const char* up : {"..", "../.."})
    if (fs::exists(fs::path(V4ORACLE_SOURCE_DIR) / up / "shared" / "testdata" / "corrupt-h5"))
      corpus = fs::path(V4ORACLE_SOURCE_DIR) / up / "shared" / "testdata" / "corrupt-h5";
  if (corpus.empty()) GTEST_SKIP() << "../shared/testdata/corrupt-h5 not present";
  const std::string good = make_op_file("good.h5");
  int n = 0;
  for (const auto& e : fs::directory_iterator(corpus)) {
    expect_input_refused(e.path().string(), good);
    ++n;
  }
  EXPECT_GT(n, 0);
}

}  // namespace
