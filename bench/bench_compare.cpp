// Benchmark input generator for `v4oracle compare` (scripts/bench_compare.sh drives it; docs/compare.md
// §Performance): writes a golden and a candidate of about GIB GiB each, streamed with bounded memory:
// per layer a bf16 activation [rows, 8192] and an f32 accumulator [rows/2, 8192], e4m3fn codes with
// ue8m0 scales. The candidate equals the golden except one bf16 element of the last layer one ulp off,
// so the comparator must read everything before it finds the first divergence.
//   bench_compare OUT_DIR GIB
#include <cstdio>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "golden/golden_schema.h"
#include "reference/formats.h"

using namespace v4;
using namespace v4::golden;

namespace {

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr int64_t kCols = 8192, kRowsPerWrite = 1024;

void write_tensor(GoldenWriter& w, const std::string& path, Fmt f, int64_t rows, uint64_t seed, int64_t plant_at) {
  TensorAttrs attrs;
  if (f == Fmt::e4m3fn) attrs = {path + "_scale", {1, 128}};
  H5DatasetStream s = w.begin_dataset(path, f, {rows, kCols}, attrs);
  const size_t esz = fmt_storage_size(f);
  std::vector<uint8_t> buf(size_t(kRowsPerWrite * kCols) * esz);
  for (int64_t r0 = 0; r0 < rows; r0 += kRowsPerWrite) {
    const int64_t n = std::min(kRowsPerWrite, rows - r0);
    for (int64_t i = 0; i < n * kCols; ++i) {
      const uint64_t h = mix(seed + uint64_t(r0 * kCols + i));
      const float x = float(int64_t(h % 2000001) - 1000000) * 1e-5f;
      if (f == Fmt::bf16) {
        uint16_t b = bf16_encode(x);
        if (r0 * kCols + i == plant_at) b = uint16_t(b + 1);
        std::memcpy(&buf[size_t(i) * 2], &b, 2);
      } else if (f == Fmt::f32) {
        std::memcpy(&buf[size_t(i) * 4], &x, 4);
      } else {
        buf[size_t(i)] = fp8_e4m3_encode(x * 40.0f, Sat::satfinite);
      }
    }
    s.write_rows(r0, n, buf.data());
  }
  s.finish();
  if (f == Fmt::e4m3fn) {
    Tensor sc = Tensor::make(Fmt::ue8m0, {rows, kCols / 128});
    for (auto& c : sc.data) c = 127;
    w.write(path + "_scale", sc);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_compare OUT_DIR GIB\n");
    return 2;
  }
  const std::string dir = argv[1];
  const double gib = std::atof(argv[2]);
  // Per layer: bf16 [1024, 8192] 16 MiB + f32 [512, 8192] 16 MiB + e4m3 [1024, 8192] 8 MiB (+ scales).
  const int64_t layer_bytes = (1024 * 2 + 512 * 4 + 1024) * kCols;
  const int layers = std::max(1, int(gib * double(int64_t(1) << 30) / double(layer_bytes)));
  for (const bool cand : {false, true}) {
    GoldenMeta m;
    m.kind = cand ? "candidate" : "golden";
    m.name = "bench";
    m.config_json = "{\"layers\":" + std::to_string(layers) + "}";
    GoldenWriter w(dir + (cand ? "/candidate.h5" : "/golden.h5"), m);
    for (int L = 0; L < layers; ++L) {
      const uint64_t seed = uint64_t(L) << 40;
      const int64_t plant = cand && L == layers - 1 ? 777 * kCols + 4321 : -1;
      write_tensor(w, golden_layer_path(L, "attn", "out"), Fmt::bf16, 1024, seed, plant);
      write_tensor(w, golden_layer_path(L, "ffn", "acc"), Fmt::f32, 512, seed + 1, -1);
      write_tensor(w, golden_layer_path(L, "act_quant", "q"), Fmt::e4m3fn, 1024, seed + 2, -1);
    }
    w.commit();
    std::printf("%s: %d layers\n", cand ? "candidate" : "golden", layers);
  }
  return 0;
}
