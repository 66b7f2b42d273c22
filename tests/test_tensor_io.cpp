// Tests for golden/tensor_io: formats and storage types, round trips, extra string attributes in order,
// creation-order walks, byte-identical output, atomic commit, every InputError with its exact text,
// SHA-256 against published vectors, row streaming, and interchange with h5py (/usr/bin/python3). Bad
// files are built directly with the HDF5 C API so the reader is tested against files it did not write.
// Expected values: published SHA-256 vectors (FIPS 180-2 appendix B), digests from Python's hashlib
// (OpenSSL), hand-derived orders and messages.
#include "golden/tensor_io.h"

#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "reference/formats.h"
#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace v4;
using namespace v4::golden;

namespace {

std::vector<uint8_t> file_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the InputError that f throws (test failure if it throws nothing or something else).
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<not an InputError: ") + e.what() + ">";
  }
  return "<no exception>";
}

// Deterministic filler: byte i = (73 i + 41) mod 256 (covers every code, NaNs and infinities included);
// the padding nibble of odd e2m1x2 rows is cleared as the format requires.
Tensor pattern_tensor(Fmt f, std::vector<int64_t> shape, int salt = 0) {
  Tensor t = Tensor::make(f, std::move(shape));
  for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = uint8_t(73 * (i + size_t(salt)) + 41);
  if (f == Fmt::e2m1x2 && (t.shape.empty() || t.shape.back() % 2)) {
    const size_t row = t.shape.empty() ? 1 : size_t(v4::fmt_stored_len(f, t.shape.back()));
    for (size_t end = row; end <= t.data.size(); end += row) t.data[end - 1] &= 0x0F;
  }
  return t;
}

class TensorIo : public v4::test::TempDirTest {};

// ---- raw HDF5 helpers for building files the reader did not write ----

struct RawFile {
  hid_t f;
  explicit RawFile(const std::string& p) : f(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {}
  ~RawFile() { H5Fclose(f); }

  // A dataset of `type` filled with zeros (whatever its element size), created with intermediate groups.
  hid_t dataset(const std::string& name, hid_t type, std::vector<hsize_t> dims) {
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hid_t space = dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr);
    hid_t d = H5Dcreate2(f, name.c_str(), type, space, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    size_t n = H5Tget_size(type);
    for (hsize_t x : dims) n *= x;
    std::vector<uint8_t> zeros(n, 0);
    if (n) H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data());
    H5Sclose(space);
    H5Pclose(lcpl);
    return d;
  }
};

// Fixed-length ASCII string attribute (what some writers produce; ours writes variable-length UTF-8).
void raw_str_attr(hid_t obj, const char* name, const std::string& v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, v.size());
  H5Tset_strpad(t, H5T_STR_NULLPAD);
  hid_t s = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, t, v.data());
  H5Aclose(a), H5Sclose(s), H5Tclose(t);
}
void raw_i64s_attr(hid_t obj, const char* name, const std::vector<int64_t>& v) {
  hsize_t n = v.size();
  hid_t s = H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(a, H5T_NATIVE_INT64, v.data());
  H5Aclose(a), H5Sclose(s);
}

}  // namespace

// =============================================================================================
// Formats, Tensor, SHA-256
// =============================================================================================

TEST(TensorIoFmt, NamesParseAndStorage) {
  const char* names[] = {"f32", "bf16", "e4m3fn", "e5m2", "e2m1x2", "ue8m0", "i32", "i64"};
  const size_t sizes[] = {4, 2, 1, 1, 1, 1, 4, 8};
  for (size_t i = 0; i < kAllFmts.size(); ++i) {
    EXPECT_STREQ(fmt_name(kAllFmts[i]), names[i]);
    EXPECT_EQ(fmt_parse(names[i]), kAllFmts[i]);
    EXPECT_EQ(fmt_storage_size(kAllFmts[i]), sizes[i]);
  }
  EXPECT_FALSE(fmt_parse("fp16"));
  EXPECT_FALSE(fmt_parse("F32"));
  EXPECT_FALSE(fmt_parse(""));
}

TEST(TensorIoFmt, TensorSizesAndViews) {
  Tensor t = Tensor::make(Fmt::e2m1x2, {3, 5});
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t.stored_shape(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(t.data.size(), 9u);
  EXPECT_EQ(Tensor::make(Fmt::e2m1x2, {}).data.size(), 1u);  // rank 0: one code in one byte
  EXPECT_EQ(Tensor::make(Fmt::bf16, {2, 3}).data.size(), 12u);
  EXPECT_EQ(Tensor::make(Fmt::i64, {0, 7}).data.size(), 0u);
  EXPECT_EQ(Tensor::make(Fmt::f32, {}).numel(), 1);
  for (uint8_t b : Tensor::make(Fmt::f32, {4, 4}).data) EXPECT_EQ(b, 0);

  Tensor f = Tensor::make(Fmt::f32, {2});
  f.as<float>()[1] = 1.5f;
  EXPECT_EQ(f.as<uint32_t>()[1], 0x3FC00000u);  // any 4-byte view of f32 is allowed
  EXPECT_THROW(f.as<uint16_t>(), std::logic_error);
  EXPECT_THROW(f.as<double>(), std::logic_error);
  const Tensor& cb = Tensor::make(Fmt::bf16, {1});
  EXPECT_THROW(cb.as<uint8_t>(), std::logic_error);
  EXPECT_THROW(Tensor::make(Fmt::f32, {2, -1}), std::invalid_argument);
}

TEST(TensorIoSha256, Fips180Vectors) {
  EXPECT_EQ(sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(sha256_hex(m448.data(), m448.size()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha256_hex(million.data(), million.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // Streaming in uneven pieces that straddle the 64-byte blocks gives the same digest.
  Sha256 h;
  for (size_t i = 0; i < million.size(); i += 997) h.update(million.data() + i, std::min<size_t>(997, million.size() - i));
  EXPECT_EQ(h.hex_digest(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

// Padding boundaries (55/56 bytes: length field fits or not; 63/64/65: block edges). Expected digests from
//   /usr/bin/python3 -c "import hashlib; print(hashlib.sha256(bytes(i%251 for i in range(N))).hexdigest())"
TEST(TensorIoSha256, PaddingBoundariesMatchHashlib) {
  const std::pair<size_t, const char*> cases[] = {
      {55, "463eb28e72f82e0a96c0a4cc53690c571281131f672aa229e0d45ae59b598b59"},
      {56, "da2ae4d6b36748f2a318f23e7ab1dfdf45acdc9d049bd80e59de82a60895f562"},
      {63, "29af2686fd53374a36b0846694cc342177e428d1647515f078784d69cdb9e488"},
      {64, "fdeab9acf3710362bd2658cdc9a29e8f9c757fcf9811603a8c447cd1d9151108"},
      {65, "4bfd2c8b6f1eec7a2afeb48b934ee4b2694182027e6d0fc075074f2fabb31781"},
      {119, "da18797ed7c3a777f0847f429724a2d8cd5138e6ed2895c3fa1a6d39d18f7ec6"},
      {120, "f52b23db1fbb6ded89ef42a23ce0c8922c45f25c50b568a93bf1c075420bbb7c"},
      {1000, "4e4c294b331f7a2099a379bec34b9f9fc03dc46ab465d998f4d683da53487e6d"},
  };
  for (const auto& [n, hex] : cases) {
    std::vector<uint8_t> m(n);
    for (size_t i = 0; i < n; ++i) m[i] = uint8_t(i % 251);
    EXPECT_EQ(sha256_hex(m.data(), n), hex) << "length " << n;
  }
}

// =============================================================================================
// Round trips
// =============================================================================================

TEST_F(TensorIo, RoundTripEveryFormatAndShape) {
  const std::vector<std::vector<int64_t>> shapes = {{3, 5}, {2, 3, 7}, {9}, {}, {0, 4}, {4, 0}, {1, 1}};
  const std::string p = path("rt.h5");
  std::vector<std::pair<std::string, Tensor>> written;
  {
    H5Writer w(p);
    int salt = 0;
    for (Fmt f : kAllFmts)
      for (size_t s = 0; s < shapes.size(); ++s) {
        const std::string name = std::string("/rt/") + fmt_name(f) + "/s" + std::to_string(s);
        written.emplace_back(name, pattern_tensor(f, shapes[s], salt++));
        w.write(name, written.back().second);
      }
    w.commit();
  }
  H5Reader r(p);
  for (const auto& [name, t] : written) {
    SCOPED_TRACE(name);
    TensorAttrs attrs{"junk", {1}};
    const Tensor back = r.read(name, t.fmt, &attrs);
    EXPECT_EQ(back.fmt, t.fmt);
    EXPECT_EQ(back.shape, t.shape);
    EXPECT_EQ(back.data, t.data);
    EXPECT_EQ(attrs, TensorAttrs{});  // unquantized: no scale link
    const TensorInfo info = r.info(name);
    EXPECT_EQ(info.stored_bytes, int64_t(t.data.size()));
    EXPECT_EQ(info.sha256, sha256_hex(t.data.data(), t.data.size()));
    EXPECT_TRUE(r.verify_hash(name));
  }
}

// The storage type on disk is the raw-code type of each format, never a widened one, and e2m1x2 halves
// the last stored dimension (checked with the HDF5 C API, not through H5Reader).
TEST_F(TensorIo, StorageTypesOnDisk) {
  const std::string p = path("types.h5");
  {
    H5Writer w(p);
    for (Fmt f : kAllFmts) w.write(std::string("/") + fmt_name(f), pattern_tensor(f, {3, 5}));
    w.commit();
  }
  const std::pair<Fmt, hid_t> expect[] = {{Fmt::f32, H5T_IEEE_F32LE}, {Fmt::bf16, H5T_STD_U16LE},
                                          {Fmt::e4m3fn, H5T_STD_U8LE}, {Fmt::e5m2, H5T_STD_U8LE},
                                          {Fmt::e2m1x2, H5T_STD_U8LE}, {Fmt::ue8m0, H5T_STD_U8LE},
                                          {Fmt::i32, H5T_STD_I32LE},   {Fmt::i64, H5T_STD_I64LE}};
  hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  for (const auto& [fmt, type] : expect) {
    SCOPED_TRACE(fmt_name(fmt));
    hid_t d = H5Dopen2(f, (std::string("/") + fmt_name(fmt)).c_str(), H5P_DEFAULT);
    hid_t t = H5Dget_type(d);
    EXPECT_GT(H5Tequal(t, type), 0);
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    ASSERT_EQ(H5Sget_simple_extent_ndims(s), 2);
    H5Sget_simple_extent_dims(s, dims, nullptr);
    EXPECT_EQ(dims[0], 3u);
    EXPECT_EQ(dims[1], fmt == Fmt::e2m1x2 ? 3u : 5u);
    H5Sclose(s), H5Tclose(t), H5Dclose(d);
  }
  H5Fclose(f);
}

// e2m1x2 packing as the format defines it: logical element 2k of a row in the low nibble, the odd row's
// last high nibble zero. Bytes built by hand from the codes, read back raw from the file.
TEST_F(TensorIo, E2m1x2OddRowLayout) {
  const std::string p = path("fp4.h5");
  Tensor t = Tensor::make(Fmt::e2m1x2, {2, 5});
  const uint8_t codes[2][5] = {{0x1, 0x2, 0x3, 0x4, 0x5}, {0xF, 0x8, 0x0, 0x7, 0x9}};
  for (int r = 0; r < 2; ++r)
    for (int k = 0; k < 3; ++k)
      t.data[size_t(3 * r + k)] = v4::fp4_e2m1_pack(codes[r][2 * k], 2 * k + 1 < 5 ? codes[r][2 * k + 1] : 0);
  {
    H5Writer w(p);
    w.write("/w", t);
    w.commit();
  }
  hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "/w", H5P_DEFAULT);
  uint8_t raw[6] = {};
  ASSERT_GE(H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw), 0);
  H5Dclose(d), H5Fclose(f);
  const uint8_t expect[6] = {0x21, 0x43, 0x05, 0x8F, 0x70, 0x09};
  EXPECT_EQ(0, std::memcmp(raw, expect, 6));

  Tensor bad = t;
  bad.data[2] = 0x15;  // non-zero padding nibble in row 0
  H5Writer w(path("bad.h5"));
  EXPECT_THROW(w.write("/w", bad), std::invalid_argument);
}

// Special float32 bit patterns (signalling NaN, NaN payload, -0, subnormal, inf) survive untouched.
TEST_F(TensorIo, F32BitPatternsUntouched) {
  const uint32_t bits[] = {0x7F800001u, 0xFFC12345u, 0x80000000u, 0x00000001u, 0xFF800000u, 0x7F7FFFFFu};
  Tensor t = Tensor::make(Fmt::f32, {6});
  std::memcpy(t.data.data(), bits, sizeof bits);
  {
    H5Writer w(path("bits.h5"));
    w.write("x", t);
    w.commit();
  }
  const Tensor back = H5Reader(path("bits.h5")).read("/x");
  for (int i = 0; i < 6; ++i) EXPECT_EQ(back.as<uint32_t>()[i], bits[i]) << i;
}

TEST_F(TensorIo, QuantizedScaleLinkAndInfo) {
  const std::string p = path("q.h5");
  {
    H5Writer w(p);
    w.write("/layers/0/ffn/w1", pattern_tensor(Fmt::e4m3fn, {256, 384}), {"/layers/0/ffn/w1_scale", {128, 128}});
    w.write("/layers/0/ffn/w1_scale", pattern_tensor(Fmt::ue8m0, {2, 3}));
    w.write("/layers/0/ffn/x", pattern_tensor(Fmt::e2m1x2, {4, 64}), {"/layers/0/ffn/x_scale", {1, 32}});
    EXPECT_THROW(w.write("/bad", pattern_tensor(Fmt::e4m3fn, {4, 4}), {"/s", {128}}), std::invalid_argument);
    EXPECT_THROW(w.write("/bad", pattern_tensor(Fmt::e4m3fn, {4, 4}), {"/s", {0, 4}}), std::invalid_argument);
    w.commit();
  }
  H5Reader r(p);
  const TensorInfo i = r.info("/layers/0/ffn/w1");
  EXPECT_EQ(i.fmt, Fmt::e4m3fn);
  EXPECT_EQ(i.shape, (std::vector<int64_t>{256, 384}));
  EXPECT_EQ(i.attrs, (TensorAttrs{"/layers/0/ffn/w1_scale", {128, 128}}));
  EXPECT_EQ(i.stored_bytes, 256 * 384);
  TensorAttrs a;
  const Tensor x = r.read("/layers/0/ffn/x", Fmt::e2m1x2, &a);
  EXPECT_EQ(a, (TensorAttrs{"/layers/0/ffn/x_scale", {1, 32}}));
  EXPECT_EQ(x.stored_shape(), (std::vector<int64_t>{4, 32}));
  EXPECT_EQ(r.info("/layers/0/ffn/w1_scale").attrs, TensorAttrs{});
}

// Extra string attributes come back in the order written (deliberately not name order), through info,
// read and a streamed dataset; 12 of them exceed HDF5's 8 compact attributes, so the dense attribute
// storage and its creation-order index are exercised too. set_dataset_attr appends; setting a name
// again moves it last.
TEST_F(TensorIo, ExtraAttributesRoundTripInOrder) {
  using Extra = std::vector<std::pair<std::string, std::string>>;
  const Extra few = {{"zeta", "z"}, {"kind", "topk_indices"}, {"alpha", "/layers/0/x"}, {"note", "\u00e9 \u4e2d"}, {"empty", ""}};
  Extra many;
  for (int i = 11; i >= 0; --i) many.emplace_back(std::string("k").append(std::to_string(i)), std::string(size_t(i), char('a' + i)));
  const std::string p = path("extra.h5");
  {
    H5Writer w(p);
    w.write("/q", pattern_tensor(Fmt::e4m3fn, {2, 4}), {"/s", {1, 4}, few});
    w.write("/s", pattern_tensor(Fmt::ue8m0, {2, 1}));
    w.write("/many", pattern_tensor(Fmt::f32, {3}), {"", {}, many});
    H5DatasetStream st = w.begin_dataset("/streamed", Fmt::bf16, {4, 2}, {"", {}, {{"b", "1"}, {"a", "2"}}});
    w.set_dataset_attr("/streamed", "c", "3");  // while the stream is open
    st.write_rows(0, 4, pattern_tensor(Fmt::bf16, {4, 2}).data.data());
    st.finish();
    w.set_dataset_attr("/s", "source", "/q");
    w.set_dataset_attr("/s", "after", "x");
    w.set_dataset_attr("/s", "source", "/many");  // replaces, now last
    w.commit();
  }
  H5Reader r(p);
  EXPECT_EQ(r.info("/q").attrs, (TensorAttrs{"/s", {1, 4}, few}));
  TensorAttrs a;
  r.read("/q", Fmt::e4m3fn, &a);
  EXPECT_EQ(a.extra, few);
  EXPECT_EQ(r.info("/many").attrs.extra, many);
  EXPECT_EQ(r.info("/streamed").attrs.extra, (Extra{{"b", "1"}, {"a", "2"}, {"c", "3"}}));
  EXPECT_EQ(r.info("/s").attrs.extra, (Extra{{"after", "x"}, {"source", "/many"}}));
  for (const char* d : {"/q", "/s", "/many", "/streamed"}) EXPECT_TRUE(r.verify_hash(d)) << d;
}

// Names tensor_io owns cannot be written as extras, by any path; neither can a repeated or empty name.
// A refused write leaves nothing behind: the same path can be written afterwards.
TEST_F(TensorIo, ExtraAttributesRejectReservedNames) {
  H5Writer w(path("reserved.h5"));
  const Tensor t = pattern_tensor(Fmt::f32, {2, 2});
  for (const char* name : {"format", "logical_shape", "scale", "block", "sha256", ""}) {
    SCOPED_TRACE(name);
    EXPECT_THROW(w.write("/t", t, {"", {}, {{"ok", "1"}, {name, "x"}}}), std::invalid_argument);
    EXPECT_THROW(w.begin_dataset("/t", Fmt::f32, {2, 2}, {"", {}, {{name, "x"}}}), std::invalid_argument);
  }
  EXPECT_THROW(w.write("/t", t, {"", {}, {{"dup", "1"}, {"dup", "2"}}}), std::invalid_argument);
  w.write("/t", t);
  for (const char* name : {"format", "logical_shape", "scale", "block", "sha256", ""})
    EXPECT_THROW(w.set_dataset_attr("/t", name, "x"), std::invalid_argument) << name;
  EXPECT_THROW(w.set_dataset_attr("/absent", "note", "x"), std::invalid_argument);
  w.commit();
  H5Reader r(path("reserved.h5"));
  EXPECT_TRUE(r.info("/t").attrs.extra.empty());
  EXPECT_TRUE(r.verify_hash("/t"));
}

// A file we did not write: its dataset does not track attribute creation order, so extras come back in
// name order; a fixed-length string is an extra like a variable-length one; an integer attribute and a
// string array are not extras (and do not make the dataset unreadable).
TEST_F(TensorIo, ExtraAttributesOfForeignFiles) {
  const std::string p = path("foreign.h5");
  {
    RawFile f(p);
    const hid_t d = f.dataset("/x", H5T_IEEE_F32LE, {2});
    raw_str_attr(d, "zz", "last");
    raw_str_attr(d, "format", "f32");
    raw_i64s_attr(d, "count", {3});
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 2);
    hsize_t n = 2;
    hid_t s = H5Screate_simple(1, &n, nullptr);
    hid_t a = H5Acreate2(d, "names", t, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, t, "abcd");
    H5Aclose(a), H5Sclose(s), H5Tclose(t);
    raw_str_attr(d, "aa", "first");
    H5Dclose(d);
  }
  EXPECT_EQ(H5Reader(p).info("/x").attrs.extra,
            (std::vector<std::pair<std::string, std::string>>{{"aa", "first"}, {"zz", "last"}}));
}

// =============================================================================================
// Walk order, root attributes
// =============================================================================================

// Written in an order that is neither alphabetical nor numeric. Expected, from the definition (depth-first,
// each group's links in creation order): /layers was created first and within it "10" before "2"; /embed
// after /layers; /head/out last although /head is a prefix of nothing earlier.
TEST_F(TensorIo, DatasetsInCreationOrder) {
  const std::string p = path("order.h5");
  {
    H5Writer w(p);
    for (const char* name : {"/layers/10/b", "/layers/2/z", "/layers/10/a", "/embed/out", "/layers/2/a", "/zz",
                             "/layers/10/c/deep", "/aa", "/head/out"})
      w.write(name, pattern_tensor(Fmt::f32, {2}));
    w.commit();
  }
  const std::vector<std::string> expect = {"/layers/10/b", "/layers/10/a", "/layers/10/c/deep", "/layers/2/z",
                                           "/layers/2/a",  "/embed/out",   "/zz",
                                           "/aa",          "/head/out"};
  EXPECT_EQ(H5Reader(p).datasets(), expect);
}

// A file whose groups do not track creation order (h5py's default) is walked in name order.
TEST_F(TensorIo, DatasetsInNameOrderWithoutTracking) {
  const std::string p = path("plain.h5");
  {
    RawFile f(p);
    for (const char* name : {"/b/y", "/a", "/b/x", "/c"}) H5Dclose(f.dataset(name, H5T_IEEE_F32LE, {1}));
  }
  EXPECT_EQ(H5Reader(p).datasets(), (std::vector<std::string>{"/a", "/b/x", "/b/y", "/c"}));
}

TEST_F(TensorIo, RootAttributes) {
  const std::string p = path("root.h5");
  std::string json(100000, ' ');  // larger than the 64 KiB object-header limit of compact attributes
  json.front() = '{', json.back() = '}';
  {
    H5Writer w(p);
    w.set_root_attr("magic", "v4oracle-golden");
    w.set_root_attr("schema_version", 1);
    w.set_root_attr("seed", int64_t(-9007199254740993));
    w.set_root_attr("seed", int64_t(1234567890123));  // replaces
    w.set_root_attr("tol", 0.1);
    w.set_root_attr("config", json);
    w.write("/x", pattern_tensor(Fmt::f32, {1}));
    w.commit();
  }
  H5Reader r(p);
  EXPECT_EQ(r.root_str("magic"), "v4oracle-golden");
  EXPECT_EQ(r.root_i64("schema_version"), 1);
  EXPECT_EQ(r.root_i64("seed"), 1234567890123);
  EXPECT_EQ(r.root_f64("tol"), 0.1);
  EXPECT_EQ(r.root_str("config"), json);
  EXPECT_EQ(r.root_str("absent"), std::nullopt);
  EXPECT_EQ(r.root_i64("absent"), std::nullopt);
  EXPECT_EQ(r.root_attr_names(), (std::vector<std::string>{"config", "magic", "schema_version", "seed", "tol"}));
  EXPECT_EQ(input_error([&] { r.root_i64("magic"); }), p + ": root attribute 'magic' is string, not a single integer");
  EXPECT_EQ(input_error([&] { r.root_f64("seed"); }), p + ": root attribute 'seed' is int64, not a single float");
  EXPECT_EQ(input_error([&] { r.root_str("tol"); }), p + ": root attribute 'tol' is float64, not a string");
}

// =============================================================================================
// Reproducibility and atomicity
// =============================================================================================

namespace {
void write_sample(H5Writer& w, bool streamed) {
  w.set_root_attr("magic", "v4oracle-golden");
  w.set_root_attr("seed", 42);
  w.set_root_attr("tol", 0.25);
  w.write("/inputs/x", pattern_tensor(Fmt::f32, {17, 33}, 1));
  w.write("/layers/0/attn/q", pattern_tensor(Fmt::e4m3fn, {64, 128}, 2), {"/layers/0/attn/q_scale", {1, 128}});
  w.write("/layers/0/attn/q_scale", pattern_tensor(Fmt::ue8m0, {64, 1}, 3));
  const Tensor big = pattern_tensor(Fmt::bf16, {300, 70}, 4);
  if (streamed) {
    H5DatasetStream s = w.begin_dataset("/layers/0/ffn/h", Fmt::bf16, big.shape, {"", {}, {{"source", "/inputs/x"}}});
    const int64_t row_bytes = s.stored_bytes_for_rows(1);
    for (int64_t r = 0; r < 300; r += 64) s.write_rows(r, std::min<int64_t>(64, 300 - r), big.data.data() + r * row_bytes);
    s.finish();
  } else {
    w.write("/layers/0/ffn/h", big, {"", {}, {{"source", "/inputs/x"}}});
  }
  w.write("/layers/1/moe/idx", pattern_tensor(Fmt::i32, {5, 6}, 5), {"", {}, {{"kind", "topk_indices"}, {"scores", "/x"}}});
  w.write("/layers/1/moe/fp4", pattern_tensor(Fmt::e2m1x2, {3, 7}, 6));
}
}  // namespace

// Same calls and data => same file bytes. The writes are 1.1 s apart so stored timestamps would differ.
TEST_F(TensorIo, IdenticalWritesGiveIdenticalBytes) {
  for (const char* name : {"a.h5", "b.h5"}) {
    H5Writer w(path(name));
    write_sample(w, false);
    w.commit();
    if (name[0] == 'a') std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  }
  const auto a = file_bytes(path("a.h5")), b = file_bytes(path("b.h5"));
  ASSERT_GT(a.size(), 0u);
  EXPECT_TRUE(a == b) << "files differ: sizes " << a.size() << " and " << b.size();

  // Streaming a dataset row block by row block stores exactly what write() stores.
  {
    H5Writer w(path("c.h5"));
    write_sample(w, true);
    w.commit();
  }
  EXPECT_TRUE(file_bytes(path("c.h5")) == a);
}

TEST_F(TensorIo, CommitIsAtomic) {
  const std::string final_path = path("out.h5");
  {
    H5Writer w(final_path);
    // An exclusive temp beside the target, hidden, named after it (golden/output_file.h).
    EXPECT_EQ(w.temp_path().rfind(path(".out.h5.v4tmp-" + std::to_string(::getpid()) + "-"), 0), 0u) << w.temp_path();
    w.write("/x", pattern_tensor(Fmt::f32, {4}));
    EXPECT_TRUE(fs::exists(w.temp_path()));
    EXPECT_FALSE(fs::exists(final_path));
    w.commit();
    EXPECT_FALSE(fs::exists(w.temp_path()));
    EXPECT_TRUE(fs::exists(final_path));
    EXPECT_THROW(w.write("/y", pattern_tensor(Fmt::f32, {4})), std::logic_error);
  }
  EXPECT_EQ(H5Reader(final_path).read("/x").data, pattern_tensor(Fmt::f32, {4}).data);
  const auto committed = file_bytes(final_path);

  // Destroyed without commit: no temp file left, the existing final file untouched and still valid.
  std::string temp;
  {
    H5Writer w(final_path);
    temp = w.temp_path();
    w.write("/other", pattern_tensor(Fmt::i64, {100}));
    w.set_root_attr("seed", 1);
  }
  EXPECT_FALSE(fs::exists(temp));
  EXPECT_TRUE(file_bytes(final_path) == committed);
  EXPECT_TRUE(H5Reader(final_path).verify_hash("/x"));

  // Nothing committed, nothing existed: no file at all.
  const std::string fresh = path("fresh.h5");
  { H5Writer w(fresh); w.write("/x", pattern_tensor(Fmt::f32, {4})); }
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);  // only out.h5

  // A stream dropped before finish() makes commit() refuse; the final file stays as it was.
  {
    H5Writer w(final_path);
    { H5DatasetStream s = w.begin_dataset("/s", Fmt::f32, {4, 4}); }
    EXPECT_THROW(w.commit(), std::logic_error);
  }
  EXPECT_TRUE(file_bytes(final_path) == committed);

  // An output directory that does not exist is bad input, named as such.
  const std::string nowhere = path("missing_dir/out.h5");
  const std::string msg = input_error([&] { H5Writer w(nowhere); });
  EXPECT_EQ(msg, nowhere + ": output directory " + path("missing_dir") + ": No such file or directory");
}

TEST_F(TensorIo, WriterRejectsMisuse) {
  H5Writer w(path("misuse.h5"));
  w.write("/a/x", pattern_tensor(Fmt::f32, {2}));
  EXPECT_THROW(w.write("/a/x", pattern_tensor(Fmt::f32, {2})), std::invalid_argument);    // exists
  EXPECT_THROW(w.write("a/x", pattern_tensor(Fmt::f32, {2})), std::invalid_argument);     // same path
  EXPECT_THROW(w.write("/a", pattern_tensor(Fmt::f32, {2})), std::invalid_argument);      // a group
  EXPECT_THROW(w.write("/a/x/y", pattern_tensor(Fmt::f32, {2})), std::invalid_argument);  // under a dataset
  for (const char* bad : {"", "/", "/a//b", "/a/", "/a/./b", "/a/../b"})
    EXPECT_THROW(w.write(bad, pattern_tensor(Fmt::f32, {2})), std::invalid_argument) << bad;
  Tensor short_data = pattern_tensor(Fmt::bf16, {3});
  short_data.data.pop_back();
  EXPECT_THROW(w.write("/short", short_data), std::invalid_argument);
  w.commit();  // the rejected writes left nothing behind
  EXPECT_EQ(H5Reader(path("misuse.h5")).datasets(), std::vector<std::string>{"/a/x"});
}

// =============================================================================================
// Streaming and row reads
// =============================================================================================

TEST_F(TensorIo, StreamRowsAndReadRows) {
  const std::string p = path("rows.h5");
  const Tensor a = pattern_tensor(Fmt::f32, {10, 3, 5}, 7);
  const Tensor fp4 = pattern_tensor(Fmt::e2m1x2, {6, 5}, 8);
  const Tensor v1 = pattern_tensor(Fmt::e2m1x2, {9}, 9);  // rank 1, odd: elements are the rows
  {
    H5Writer w(p);
    H5DatasetStream s = w.begin_dataset("/a", Fmt::f32, a.shape);
    const int64_t rb = s.stored_bytes_for_rows(1);
    EXPECT_EQ(rb, 60);
    s.write_rows(0, 3, a.data.data());
    EXPECT_THROW(s.write_rows(5, 1, a.data.data() + 5 * rb), std::invalid_argument);  // out of order
    EXPECT_THROW(s.write_rows(3, 8, a.data.data() + 3 * rb), std::out_of_range);
    s.write_rows(3, 4, a.data.data() + 3 * rb);
    s.write_rows(7, 0, nullptr);
    EXPECT_THROW(s.finish(), std::logic_error);  // rows 7..9 missing
    s.write_rows(7, 3, a.data.data() + 7 * rb);
    s.finish();

    H5DatasetStream s1 = w.begin_dataset("/v1", Fmt::e2m1x2, v1.shape);
    EXPECT_THROW(s1.write_rows(0, 3, v1.data.data()), std::invalid_argument);  // odd count before the end
    s1.write_rows(0, 4, v1.data.data());
    s1.write_rows(4, 4, v1.data.data() + 2);
    s1.write_rows(8, 1, v1.data.data() + 4);
    s1.finish();
    w.write("/fp4", fp4);
    EXPECT_THROW(w.begin_dataset("/scalar", Fmt::f32, {}), std::invalid_argument);
    w.commit();
  }
  H5Reader r(p);
  EXPECT_EQ(r.read("/a").data, a.data);
  EXPECT_EQ(r.read("/v1").data, v1.data);
  EXPECT_EQ(r.info("/a").sha256, sha256_hex(a.data.data(), a.data.size()));
  EXPECT_TRUE(r.verify_hash("/a"));
  EXPECT_TRUE(r.verify_hash("/v1"));

  // read_rows == the slice of read(), taken by index arithmetic on the full tensor.
  const Tensor full = r.read("/a");
  for (auto [r0, n] : {std::pair<int64_t, int64_t>{0, 10}, {2, 3}, {9, 1}, {4, 0}}) {
    const Tensor part = r.read_rows("/a", r0, n);
    EXPECT_EQ(part.shape, (std::vector<int64_t>{n, 3, 5}));
    const std::vector<uint8_t> slice(full.data.begin() + r0 * 60, full.data.begin() + (r0 + n) * 60);
    EXPECT_EQ(part.data, slice) << r0 << "+" << n;
  }
  const Tensor fp4_rows = r.read_rows("/fp4", 1, 3);
  EXPECT_EQ(fp4_rows.shape, (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(fp4_rows.data, std::vector<uint8_t>(fp4.data.begin() + 3, fp4.data.begin() + 12));

  // Rank-1 e2m1x2: elements [2, 5) are nibbles 2, 3, 4 of the packed vector; 4's partner nibble (5) is cleared.
  auto nibble = [&](int64_t i) { return v4::fp4_e2m1_get(v1.data.data(), i); };
  const Tensor e = r.read_rows("/v1", 2, 3);
  EXPECT_EQ(e.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(e.data, (std::vector<uint8_t>{v4::fp4_e2m1_pack(nibble(2), nibble(3)), v4::fp4_e2m1_pack(nibble(4), 0)}));
  EXPECT_EQ(r.read_rows("/v1", 4, 5).data, std::vector<uint8_t>(v1.data.begin() + 2, v1.data.end()));
  EXPECT_THROW(r.read_rows("/v1", 1, 2), std::invalid_argument);
  EXPECT_THROW(r.read_rows("/a", 8, 3), std::out_of_range);
  EXPECT_THROW(r.read_rows("/a", -1, 1), std::out_of_range);
}

// The stored hash detects a flipped data byte (found through the dataset's file offset).
TEST_F(TensorIo, VerifyHashDetectsCorruption) {
  const std::string p = path("h.h5");
  {
    H5Writer w(p);
    w.write("/x", pattern_tensor(Fmt::bf16, {8, 8}));
    w.commit();
  }
  hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "/x", H5P_DEFAULT);
  const haddr_t off = H5Dget_offset(d);
  H5Dclose(d), H5Fclose(f);
  ASSERT_NE(off, HADDR_UNDEF);
  {
    std::fstream io(p, std::ios::in | std::ios::out | std::ios::binary);
    io.seekg(std::streamoff(off + 37));
    char c = 0;
    io.get(c);
    io.seekp(std::streamoff(off + 37));
    io.put(char(c ^ 0x01));
  }
  H5Reader r(p);
  EXPECT_FALSE(r.verify_hash("/x"));

  {
    RawFile raw(path("nohash.h5"));
    H5Dclose(raw.dataset("/x", H5T_IEEE_F32LE, {2}));
  }
  EXPECT_EQ(input_error([&] { H5Reader(path("nohash.h5")).verify_hash("/x"); }),
            path("nohash.h5") + ": /x: no 'sha256' attribute to verify");
}

// =============================================================================================
// Bad input: one line naming file, dataset and problem
// =============================================================================================

TEST_F(TensorIo, BadFilesAreInputErrors) {
  const std::string missing = path("missing.h5");
  EXPECT_EQ(input_error([&] { H5Reader r(missing); }), missing + ": cannot open: No such file or directory");

  const std::string text = path("text.h5");
  std::ofstream(text) << "not an hdf5 file\n";
  EXPECT_EQ(input_error([&] { H5Reader r(text); }), text + ": not an HDF5 file");
  EXPECT_EQ(input_error([&] { H5Reader r(dir_.string()); }), dir_.string() + ": is a directory, not an HDF5 file");

  // Truncated to half: the superblock says the file is longer than it is.
  const std::string trunc = path("trunc.h5");
  {
    H5Writer w(trunc);
    w.write("/x", pattern_tensor(Fmt::f32, {64, 64}));
    w.commit();
  }
  const auto full_size = fs::file_size(trunc);
  fs::resize_file(trunc, full_size / 2);
  const std::string msg = input_error([&] { H5Reader r(trunc); });
  EXPECT_EQ(msg.rfind(trunc + ": corrupt or truncated HDF5 file (HDF5: truncated file: eof = " +
                          std::to_string(full_size / 2),
                      0),
            0u)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST_F(TensorIo, Int16StoredBf16CodesReadAsTheSameBits) {
  // torch's tensor.view(torch.int16) of bf16 [-1.0, 1.0, NaN]: codes 0xBF80, 0x3F80, 0xFFFF as int16.
  const std::string p = path("i16.h5");
  const int16_t codes[3] = {int16_t(-16512), int16_t(0x3F80), int16_t(-1)};
  {
    RawFile f(p);
    for (const bool with_format : {true, false}) {
      hid_t d = f.dataset(with_format ? "/fmt" : "/plain", H5T_STD_I16LE, {3});
      if (with_format) raw_str_attr(d, "format", "bf16");
      ASSERT_GE(H5Dwrite(d, H5T_NATIVE_INT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes), 0);
      H5Dclose(d);
    }
  }
  H5Reader r(p);
  for (const char* ds : {"/fmt", "/plain"}) {
    const TensorInfo info = r.info(ds);
    EXPECT_EQ(info.fmt, Fmt::bf16) << ds;
    EXPECT_TRUE(info.int16_codes) << ds;
    const Tensor t = r.read(ds);  // negative int16 must not be clipped by a conversion to uint16
    EXPECT_EQ(t.as<uint16_t>()[0], 0xBF80) << ds;
    EXPECT_EQ(t.as<uint16_t>()[1], 0x3F80) << ds;
    EXPECT_EQ(t.as<uint16_t>()[2], 0xFFFF) << ds;
    EXPECT_EQ(r.read_rows(ds, 0, 1).as<uint16_t>()[0], 0xBF80) << ds;
  }
}

TEST_F(TensorIo, BadDatasetsAreInputErrors) {
  const std::string p = path("bad.h5");
  {
    RawFile f(p);
    hid_t d;
    d = f.dataset("/layers/3/moe_gate/scores", H5T_IEEE_F32LE, {4, 8});  // the design.md example
    raw_str_attr(d, "format", "bf16");
    H5Dclose(d);
    d = f.dataset("/f64", H5T_IEEE_F64LE, {3});
    raw_str_attr(d, "format", "f32");
    H5Dclose(d);
    d = f.dataset("/i8", H5T_STD_I8LE, {3});
    raw_str_attr(d, "format", "e4m3fn");
    H5Dclose(d);
    d = f.dataset("/i16", H5T_STD_I16LE, {3});  // bf16 dumped as torch .view(int16)
    raw_str_attr(d, "format", "bf16");
    H5Dclose(d);
    H5Dclose(f.dataset("/u8_noformat", H5T_STD_U8LE, {3}));
    H5Dclose(f.dataset("/f64_noformat", H5T_IEEE_F64LE, {3}));
    d = f.dataset("/fp16", H5T_STD_U16LE, {3});
    raw_str_attr(d, "format", "fp16");
    H5Dclose(d);
    d = f.dataset("/int_format", H5T_STD_U8LE, {3});
    raw_i64s_attr(d, "format", {1});
    H5Dclose(d);
    d = f.dataset("/shape_f32", H5T_IEEE_F32LE, {3, 4});
    raw_str_attr(d, "format", "f32");
    raw_i64s_attr(d, "logical_shape", {4, 3});
    H5Dclose(d);
    d = f.dataset("/shape_fp4", H5T_STD_U8LE, {2, 3});
    raw_str_attr(d, "format", "e2m1x2");
    raw_i64s_attr(d, "logical_shape", {2, 7});
    H5Dclose(d);
    d = f.dataset("/fp4_noshape", H5T_STD_U8LE, {2, 3});
    raw_str_attr(d, "format", "e2m1x2");
    H5Dclose(d);
    d = f.dataset("/bad_block", H5T_STD_U8LE, {2, 3});
    raw_str_attr(d, "format", "e4m3fn");
    raw_i64s_attr(d, "block", {128});
    H5Dclose(d);
    d = f.dataset("/good_bf16", H5T_STD_U16LE, {2, 3});
    raw_str_attr(d, "format", "bf16");
    H5Dclose(d);
    hid_t g = H5Gcreate2(f.f, "/grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(g);
  }
  H5Reader r(p);
  auto err = [&](const std::string& ds) { return input_error([&] { r.read(ds); }); };
  EXPECT_EQ(err("/layers/3/moe_gate/scores"),
            p + ": /layers/3/moe_gate/scores: format attribute says 'bf16' but the dataset is stored as float32 "
                "(bf16 is stored as uint16)");
  EXPECT_EQ(err("/f64"), p + ": /f64: format attribute says 'f32' but the dataset is stored as float64 (f32 is stored as float32)");
  EXPECT_EQ(err("/i8"), p + ": /i8: format attribute says 'e4m3fn' but the dataset is stored as int8 (e4m3fn is stored as uint8)");
  EXPECT_EQ(err("/i16"), "<no exception>");  // bf16 codes dumped as int16 are accepted (Int16StoredBf16Codes)
  const std::string omit = "; only float32, int32, int64 and 16-bit integer (bf16 codes) datasets may omit it (set format "
                           "to one of f32, bf16, e4m3fn, e5m2, e2m1x2, ue8m0, i32, i64)";
  EXPECT_EQ(err("/u8_noformat"), p + ": /u8_noformat: no 'format' attribute and the dataset is stored as uint8" + omit);
  EXPECT_EQ(err("/f64_noformat"), p + ": /f64_noformat: no 'format' attribute and the dataset is stored as float64" + omit);
  EXPECT_EQ(err("/fp16"), p + ": /fp16: unknown format 'fp16' (known: f32, bf16, e4m3fn, e5m2, e2m1x2, ue8m0, i32, i64)");
  EXPECT_EQ(err("/int_format"), p + ": /int_format: attribute 'format' should be a string but is stored as int64");
  EXPECT_EQ(err("/shape_f32"), p + ": /shape_f32: logical_shape [4, 3] does not match the stored shape [3, 4] (f32 stores it as [4, 3])");
  EXPECT_EQ(err("/shape_fp4"),
            p + ": /shape_fp4: logical_shape [2, 7] does not match the stored shape [2, 3] (e2m1x2 stores it as [2, 4])");
  EXPECT_EQ(err("/fp4_noshape"),
            p + ": /fp4_noshape: no 'logical_shape' attribute; an e2m1x2 dataset needs one (its last logical dimension may be odd)");
  EXPECT_EQ(err("/bad_block"), p + ": /bad_block: block [128] does not have the rank of the logical shape [2, 3]");
  EXPECT_EQ(err("/nope"), p + ": /nope: no such dataset");
  EXPECT_EQ(err("layers/9/x"), p + ": /layers/9/x: no such dataset");
  EXPECT_EQ(err("/layers/3/moe_gate/scores/deeper"), p + ": /layers/3/moe_gate/scores/deeper: no such dataset");
  EXPECT_EQ(err("/grp"), p + ": /grp: is a group, not a dataset");
  EXPECT_EQ(input_error([&] { r.read("/good_bf16", Fmt::e4m3fn); }),
            p + ": /good_bf16: expected format e4m3fn but the dataset is bf16");
  EXPECT_EQ(input_error([&] { r.info("/i8"); }), err("/i8"));  // info validates the same way
  EXPECT_FALSE(r.has("/nope"));
  EXPECT_FALSE(r.has("/grp"));
  EXPECT_TRUE(r.has("/i8"));

  // A fixed-length ASCII format attribute and no logical_shape are fine for non-packed formats.
  const Tensor ok = r.read("/good_bf16", Fmt::bf16);
  EXPECT_EQ(ok.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ok.data, std::vector<uint8_t>(12, 0));
}

// Plain datasets without a format attribute: float32 -> f32, int32 -> i32, int64 -> i64; big-endian
// storage is converted by HDF5 and accepted; chunked, compressed layouts read like contiguous ones.
TEST_F(TensorIo, PlainDatasetsWithoutFormat) {
  const std::string p = path("plain.h5");
  {
    RawFile f(p);
    H5Dclose(f.dataset("/f", H5T_IEEE_F32LE, {2, 2}));
    H5Dclose(f.dataset("/i", H5T_STD_I32LE, {5}));
    H5Dclose(f.dataset("/l", H5T_STD_I64LE, {}));
    hid_t d = f.dataset("/be", H5T_IEEE_F32BE, {2});
    const float v[2] = {1.5f, -2.0f};
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    H5Dclose(d);
    // Chunked and deflate-compressed, as h5py writes with compression="gzip".
    hsize_t dims[2] = {40, 30}, chunk[2] = {16, 16};
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    hid_t space = H5Screate_simple(2, dims, nullptr);
    d = H5Dcreate2(f.f, "/zip", H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    std::vector<uint8_t> codes(40 * 30);
    for (size_t i = 0; i < codes.size(); ++i) codes[i] = uint8_t(i * 7);
    H5Dwrite(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, codes.data());
    raw_str_attr(d, "format", "ue8m0");
    H5Dclose(d), H5Sclose(space), H5Pclose(dcpl);
  }
  H5Reader r(p);
  EXPECT_EQ(r.read("/f").fmt, Fmt::f32);
  EXPECT_EQ(r.read("/f").shape, (std::vector<int64_t>{2, 2}));
  EXPECT_FALSE(r.info("/f").has_format_attr);
  EXPECT_EQ(r.read("/i", Fmt::i32).shape, (std::vector<int64_t>{5}));
  EXPECT_EQ(r.read("/l", Fmt::i64).shape, (std::vector<int64_t>{}));
  const Tensor be = r.read("/be", Fmt::f32);
  EXPECT_EQ(be.as<float>()[0], 1.5f);
  EXPECT_EQ(be.as<float>()[1], -2.0f);
  std::vector<uint8_t> codes(40 * 30);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = uint8_t(i * 7);
  EXPECT_EQ(r.read("/zip", Fmt::ue8m0).data, codes);
  EXPECT_EQ(r.read_rows("/zip", 17, 5).data, std::vector<uint8_t>(codes.begin() + 17 * 30, codes.begin() + 22 * 30));
  EXPECT_EQ(r.datasets(), (std::vector<std::string>{"/be", "/f", "/i", "/l", "/zip"}));
}

// =============================================================================================
// Interchange with h5py
// =============================================================================================

// h5py writes a plain float32 dataset and a uint8 dataset with format attributes (variable-length str);
// we read them. Then h5py reads a file we wrote and checks format names, dtypes, shapes and recomputes
// every sha256 with hashlib (an independent SHA-256 over the same stored bytes).
TEST_F(TensorIo, InterchangeWithH5py) {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "/usr/bin/python3 cannot import h5py";
  const std::string in = path("in.h5"), ours = path("ours.h5"), script = path("check.py");
  {
    H5Writer w(ours);
    w.write("/a/f32", pattern_tensor(Fmt::f32, {3, 4}, 1));
    w.write("/a/bf16", pattern_tensor(Fmt::bf16, {5}, 2));
    w.write("/b/fp4", pattern_tensor(Fmt::e2m1x2, {2, 7}, 3), {"/b/fp4_scale", {1, 7}});
    w.write("/b/fp4_scale", pattern_tensor(Fmt::ue8m0, {2, 1}, 4));
    w.write("/i64", pattern_tensor(Fmt::i64, {2}, 5), {"", {}, {{"zeta", "z"}, {"note", "\u00e9"}}});
    w.set_root_attr("magic", "v4oracle-golden");
    w.commit();
  }
  std::ofstream(script) << R"PY(
import hashlib, sys
import h5py, numpy as np
inp, ours = sys.argv[1], sys.argv[2]
with h5py.File(inp, "w") as f:
    f["x"] = (np.arange(12, dtype=np.float32) * 0.5).reshape(3, 4)
    c = f.create_dataset("codes", data=np.array([[0, 1, 0x7F], [0x80, 0xFE, 0x38]], dtype=np.uint8))
    c.attrs["format"] = "e4m3fn"
    c.attrs["logical_shape"] = [2, 3]
    c.attrs["zz"] = "z"
    c.attrs["note"] = "from h5py"
    c.attrs["count"] = 3
want = {"/a/f32": ("f32", "float32", [3, 4]), "/a/bf16": ("bf16", "uint16", [5]),
        "/b/fp4": ("e2m1x2", "uint8", [2, 7]), "/b/fp4_scale": ("ue8m0", "uint8", [2, 1]),
        "/i64": ("i64", "int64", [2])}
bad = []
with h5py.File(ours, "r") as f:
    if f.attrs["magic"] != "v4oracle-golden": bad.append("magic %r" % f.attrs["magic"])
    for name, (fmt, dtype, shape) in want.items():
        d = f[name]
        if d.attrs["format"] != fmt: bad.append("%s format %r" % (name, d.attrs["format"]))
        if str(d.dtype) != dtype: bad.append("%s dtype %s" % (name, d.dtype))
        if list(d.attrs["logical_shape"]) != shape: bad.append("%s shape %r" % (name, d.attrs["logical_shape"]))
        if hashlib.sha256(d[()].tobytes()).hexdigest() != d.attrs["sha256"]: bad.append(name + " sha256")
    if f["/b/fp4"].shape != (2, 4): bad.append("fp4 stored shape %r" % (f["/b/fp4"].shape,))
    if f["/b/fp4"].attrs["scale"] != "/b/fp4_scale" or list(f["/b/fp4"].attrs["block"]) != [1, 7]: bad.append("scale link")
    e = f["/i64"].attrs
    if list(e) != ["format", "logical_shape", "zeta", "note", "sha256"]: bad.append("attribute order %r" % list(e))
    if not (type(e["zeta"]) is str and e["zeta"] == "z" and type(e["note"]) is str and e["note"] == "\u00e9"):
        bad.append("extra attributes %r %r" % (e["zeta"], e["note"]))
if bad: print("\n".join(bad))
sys.exit(1 if bad else 0)
)PY";
  const std::string cmd = "/usr/bin/python3 '" + script + "' '" + in + "' '" + ours + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;

  H5Reader r(in);
  const Tensor x = r.read("/x", Fmt::f32);
  ASSERT_EQ(x.shape, (std::vector<int64_t>{3, 4}));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(x.as<float>()[i], float(i) * 0.5f);
  const Tensor c = r.read("/codes", Fmt::e4m3fn);
  EXPECT_EQ(c.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(c.data, (std::vector<uint8_t>{0, 1, 0x7F, 0x80, 0xFE, 0x38}));
  EXPECT_TRUE(r.info("/codes").sha256.empty());
  // h5py does not track attribute creation order by default: name order; the integer is not an extra.
  EXPECT_EQ(r.info("/codes").attrs.extra,
            (std::vector<std::pair<std::string, std::string>>{{"note", "from h5py"}, {"zz", "z"}}));
}
