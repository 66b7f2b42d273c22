// The inspector's hand-over (golden/reader_catalog.h, docs/hdf5-tensors.md §Untrusted files): the forked
// child walks a file once and hands what it validated to the process, which then reads no metadata of
// its own. Expected values come from the process's own reading of a copy of the same file with the
// inspector off (V4ORACLE_INSPECT=0): the hand-over must change nothing but who did the walking.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "golden/h5_util.h"
#include "golden/reader_catalog.h"
#include "golden/tensor_io.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace v4;
using namespace v4::golden;

namespace {

class Inspector : public v4::test::TempDirTest {};

// A rank-1 or rank-2 dataset of `type` with the given layout, filled with 1..n in `mem`.
void put_dataset(hid_t file, const char* name, hid_t type, std::vector<hsize_t> dims, hid_t dcpl) {
  const hid_t s = H5Screate_simple(int(dims.size()), dims.data(), nullptr);
  const hid_t d = H5Dcreate2(file, name, type, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  hsize_t n = 1;
  for (hsize_t x : dims) n *= x;
  std::vector<float> v(n);
  for (hsize_t i = 0; i < n; ++i) v[i] = float(i + 1);
  if (H5Tget_class(type) == H5T_INTEGER) {
    std::vector<int16_t> w(v.begin(), v.end());
    H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, w.data());
  } else {
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
  }
  H5Dclose(d), H5Sclose(s);
}

// Every kind of dataset the reader distinguishes, with a dataset whose metadata is bad in the middle of
// the walk (the inspector must go on past it) and datasets after it.
void write_mixed(const std::string& p) {
  {
    H5Writer w(p);
    Tensor f = Tensor::make(Fmt::f32, {3, 5});
    for (size_t i = 0; i < f.data.size(); ++i) f.data[i] = uint8_t(i * 7);
    w.write("/a/f32", f, {"", {}, {{"note", "n"}, {"source", "/a/f32"}}});
    w.write("/a/q", Tensor::make(Fmt::e4m3fn, {4, 256}), {"/a/s", {1, 128}});
    w.write("/a/s", Tensor::make(Fmt::ue8m0, {4, 2}));
    w.write("/a/fp4", Tensor::make(Fmt::e2m1x2, {3, 5}));
    w.write("/a/empty", Tensor::make(Fmt::bf16, {0, 4}));
    w.commit();
  }
  const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  {
    const h5::Hid d(H5Dopen2(f, "/a/f32", H5P_DEFAULT), H5Dclose);
    h5::write_scalar_attr(d, "kind", H5T_STD_I32LE, H5T_NATIVE_INT32, int32_t(1));  // not a string: other_attrs
  }
  const hid_t bad = H5Screate_simple(1, std::vector<hsize_t>{4}.data(), nullptr);
  const hid_t bd = H5Dcreate2(f, "/bad", H5T_IEEE_F32LE, bad, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  h5::write_str_attr(bd, "format", "nonsense");
  H5Dclose(bd), H5Sclose(bad);
  const hid_t chunked = H5Pcreate(H5P_DATASET_CREATE);
  const hsize_t chunk[2] = {16, 16};
  H5Pset_chunk(chunked, 2, chunk);
  H5Pset_deflate(chunked, 6);
  put_dataset(f, "/chunked", H5T_IEEE_F32LE, {64, 40}, chunked);
  H5Pclose(chunked);
  const hid_t compact = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_layout(compact, H5D_COMPACT);
  put_dataset(f, "/compact", H5T_IEEE_F32LE, {6}, compact);
  H5Pclose(compact);
  put_dataset(f, "/big_endian", H5T_IEEE_F32BE, {8}, H5P_DEFAULT);
  put_dataset(f, "/int16_bf16", H5T_STD_I16LE, {2, 3}, H5P_DEFAULT);
  H5Fclose(f);
}

// What a reader says of every dataset: its TensorInfo, or the problem and dataset of its InputError.
using Answer = std::variant<TensorInfo, std::string>;
std::map<std::string, Answer> answers(const H5Reader& r) {
  std::map<std::string, Answer> out;
  for (const std::string& ds : r.datasets()) {
    try {
      out.emplace(ds, r.info(ds));
    } catch (const InputError& e) {
      out.emplace(ds, e.dataset + ": " + e.problem);
    }
  }
  return out;
}

// The reader of `p` with the inspector off, for the expected answers.
struct InspectorOff {
  InspectorOff() { ::setenv("V4ORACLE_INSPECT", "0", 1); }
  ~InspectorOff() { ::unsetenv("V4ORACLE_INSPECT"); }
};

}  // namespace

TEST_F(Inspector, HandsOverExactlyWhatTheProcessWouldReadItself) {
  const std::string on_path = path("on.h5"), off_path = path("off.h5");
  write_mixed(on_path);
  fs::copy_file(on_path, off_path);  // another inode: not inspected yet
  const H5Reader on(on_path);
  const std::map<std::string, Answer> got = answers(on);
  EXPECT_EQ(on.own_inspections(), 0) << "the process walked metadata the inspector had handed over";

  InspectorOff guard;
  const H5Reader off(off_path);
  const std::map<std::string, Answer> want = answers(off);
  ASSERT_EQ(on.datasets(), off.datasets());
  ASSERT_EQ(got.size(), 10u);
  for (const auto& [ds, a] : want) {
    ASSERT_TRUE(got.count(ds)) << ds;
    EXPECT_TRUE(got.at(ds) == a) << ds;
  }
  EXPECT_EQ(off.own_inspections(), 9) << "every dataset but /bad, once each";
  // The bad dataset in the middle did not stop the walk, and is still reported with its own message.
  EXPECT_EQ(std::get<std::string>(got.at("/bad")).rfind("/bad: unknown format 'nonsense'", 0), 0u);
  // The fields the hand-over adds, against what each layout must give.
  const auto info = [&](const char* ds) { return std::get<TensorInfo>(got.at(ds)); };
  EXPECT_EQ(info("/a/f32").other_attrs, std::vector<std::string>{"kind"});
  EXPECT_EQ(info("/a/f32").attrs.extra.size(), 2u);
  for (const char* ds : {"/a/f32", "/a/q", "/a/s", "/a/fp4", "/int16_bf16"}) {
    ASSERT_TRUE(info(ds).raw.has_value()) << ds;
    EXPECT_EQ(info(ds).raw->bytes, uint64_t(info(ds).stored_bytes)) << ds;
  }
  EXPECT_EQ(info("/a/empty").raw, (RawExtent{0, 0}));
  for (const char* ds : {"/chunked", "/compact", "/big_endian"}) EXPECT_FALSE(info(ds).raw.has_value()) << ds;
  // The data read through handed-over metadata is the data read through the process's own.
  for (const auto& [ds, a] : want) {
    if (!std::holds_alternative<TensorInfo>(a)) continue;
    EXPECT_EQ(on.read(ds).data, off.read(ds).data) << ds;
    if (!std::get<TensorInfo>(a).shape.empty() && std::get<TensorInfo>(a).shape[0] >= 2) {
      EXPECT_EQ(on.read_rows(ds, 1, 1).data, off.read_rows(ds, 1, 1).data) << ds;
    }
  }
  EXPECT_EQ(on.own_inspections(), 0);
}

// The child writes the hand-over into a pipe (64 KiB on Linux) while the process waits: the process must
// read while it waits, or the child blocks on a full pipe until the watchdog kills it.
TEST_F(Inspector, HandOverLargerThanAPipeArrivesWhole) {
  const std::string p = path("many.h5");
  constexpr int kDatasets = 1500;
  {
    H5Writer w(p);
    for (int i = 0; i < kDatasets; ++i)
      w.write("/layers/" + std::to_string(i) + "/t", Tensor::make(Fmt::f32, {2}), {"", {}, {{"note", std::string(64, 'x')}}});
    w.commit();
  }
  ::setenv("V4ORACLE_INSPECT_TIMEOUT_S", "10", 1);
  const H5Reader r(p);
  ::unsetenv("V4ORACLE_INSPECT_TIMEOUT_S");
  ASSERT_EQ(r.datasets().size(), size_t(kDatasets));
  ReaderCatalog c;
  c.datasets = r.datasets();
  for (const std::string& ds : *c.datasets) c.infos.emplace(ds, r.info(ds));
  EXPECT_GT(serialize_catalog(c).size(), size_t(4) << 16) << "the case needs a hand-over of several pipe buffers";
  EXPECT_EQ(r.own_inspections(), 0);
}

// parse_catalog is strict: everything serialize_catalog writes comes back equal, and a truncated,
// extended or altered string is refused whole (the process then reads the metadata itself).
TEST(ReaderCatalogBytes, RoundTripAndStrictParse) {
  ReaderCatalog c;
  c.datasets = std::vector<std::string>{"/a", "/b/c", ""};
  TensorInfo a;
  a.fmt = Fmt::e2m1x2;
  a.shape = {3, 5};
  a.stored_shape = {3, 3};
  a.attrs = {"/s", {1, 32}, {{"note", "n\nwith newline"}, {"source", "/x"}}};
  a.stored_bytes = 9;
  a.sha256 = std::string(64, 'f');
  a.has_format_attr = true;
  a.int16_codes = false;
  a.raw = RawExtent{uint64_t(1) << 40, 9};
  a.other_attrs = {"kind", "weird"};
  TensorInfo b;
  b.fmt = Fmt::bf16;
  b.has_format_attr = false;
  b.int16_codes = true;
  c.infos.emplace("/a", a);
  c.infos.emplace("/b/c", b);
  const std::string bytes = serialize_catalog(c);
  const std::optional<ReaderCatalog> back = parse_catalog(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(*back == c);
  ReaderCatalog none;  // no dataset list, no infos
  ASSERT_TRUE(parse_catalog(serialize_catalog(none)).has_value());
  EXPECT_FALSE(parse_catalog(serialize_catalog(none))->datasets.has_value());

  for (size_t n = 0; n < bytes.size(); ++n) EXPECT_FALSE(parse_catalog(bytes.substr(0, n)).has_value()) << n;
  EXPECT_FALSE(parse_catalog(bytes + '\0').has_value());
  for (size_t i : {size_t(0), size_t(7), bytes.size() - 1}) {  // the magic and the end mark
    std::string bad = bytes;
    bad[i] = char(bad[i] ^ 1);
    EXPECT_FALSE(parse_catalog(bad).has_value()) << i;
  }
  // A count far beyond the bytes that follow is refused before anything is allocated for it.
  std::string huge = bytes.substr(0, 8) + std::string("\x01\0\0\0\0\0\0\0", 8) + std::string(8, '\xff');
  EXPECT_FALSE(parse_catalog(huge).has_value());
}
