// libFuzzer target: the inspector's hand-over (golden/reader_catalog.h). The process parses bytes that
// its forked child wrote after running libhdf5 on a hostile file, so parse_catalog must take any bytes:
// no crash, no sanitizer report, no allocation beyond the input's size, and a catalog it accepts must
// survive serialize_catalog -> parse_catalog unchanged. The input also drives a catalog built field by
// field (FuzzedDataProvider), which must round-trip exactly. docs/fuzzing.md.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "golden/reader_catalog.h"

namespace {

using v4::golden::ReaderCatalog;
using v4::golden::TensorInfo;

std::vector<int64_t> dims(FuzzedDataProvider& p) {
  std::vector<int64_t> v(p.ConsumeIntegralInRange<size_t>(0, 5));
  for (int64_t& x : v) x = p.ConsumeIntegral<int64_t>();
  return v;
}

ReaderCatalog built(FuzzedDataProvider& p) {
  ReaderCatalog c;
  if (p.ConsumeBool()) {
    c.datasets.emplace();
    for (size_t n = p.ConsumeIntegralInRange<size_t>(0, 8); n > 0; --n) c.datasets->push_back(p.ConsumeRandomLengthString(64));
  }
  for (size_t n = p.ConsumeIntegralInRange<size_t>(0, 8); n > 0; --n) {
    TensorInfo t;
    t.fmt = v4::Fmt(p.ConsumeIntegralInRange<uint8_t>(0, uint8_t(v4::kFmtCount - 1)));
    t.shape = dims(p), t.stored_shape = dims(p), t.attrs.block = dims(p);
    t.attrs.scale = p.ConsumeRandomLengthString(32);
    for (size_t e = p.ConsumeIntegralInRange<size_t>(0, 3); e > 0; --e)
      t.attrs.extra.emplace_back(p.ConsumeRandomLengthString(16), p.ConsumeRandomLengthString(64));
    t.stored_bytes = p.ConsumeIntegral<int64_t>();
    t.sha256 = p.ConsumeRandomLengthString(64);
    t.has_format_attr = p.ConsumeBool(), t.int16_codes = p.ConsumeBool();
    if (p.ConsumeBool()) t.raw = v4::golden::RawExtent{p.ConsumeIntegral<uint64_t>(), p.ConsumeIntegral<uint64_t>()};
    for (size_t e = p.ConsumeIntegralInRange<size_t>(0, 3); e > 0; --e) t.other_attrs.push_back(p.ConsumeRandomLengthString(16));
    c.infos.emplace(p.ConsumeRandomLengthString(64), std::move(t));
  }
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (const std::optional<ReaderCatalog> c = v4::golden::parse_catalog(bytes)) {
    const std::optional<ReaderCatalog> again = v4::golden::parse_catalog(v4::golden::serialize_catalog(*c));
    if (!again || !(*again == *c)) std::abort();
  }
  FuzzedDataProvider p(data, size);
  const ReaderCatalog c = built(p);
  const std::optional<ReaderCatalog> back = v4::golden::parse_catalog(v4::golden::serialize_catalog(c));
  if (!back || !(*back == c)) std::abort();
  return 0;
}
