// FP4 quantization-aware training of expert weights (see fp4_qat.h).
#include "reference/fp4_qat.h"

#include <stdexcept>
#include <string>

#include "reference/blocks.h"
#include "reference/formats.h"
#include "reference/fp4_act_quant.h"

namespace v4 {

namespace {

void check_cols(const char* fn, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 || cols % kFp4Block != 0)
    throw std::invalid_argument(std::string(fn) + ": shape [" + std::to_string(rows) + ", " + std::to_string(cols) +
                                "] needs cols a multiple of 32");
}

// max(max|w|, floor) over one block of fp32 values; any NaN makes it NaN (the scale code 0xFF), as the
// activation quantizers do (docs/quantizers.md).
float block_amax(const float* w, float floor) {
  float amax = floor;
  bool nan = false;
  for (int i = 0; i < kFp4Block; ++i) {
    const float a = f32_from_bits(f32_bits(w[i]) & 0x7FFFFFFFu);
    nan |= f32_is_nan(a);
    if (a > amax) amax = a;
  }
  return nan ? f32_from_bits(kF32CanonicalNaN) : amax;
}

// body(element offset, block index, scale code, scale value) for every 32-block of every row.
template <class Body>
void for_each_block(const float* w, int64_t rows, int64_t cols, Body body) {
  const int64_t nb = cols / kFp4Block;
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < nb; ++b) {
      const int64_t at = r * cols + b * kFp4Block;
      const uint8_t sc = fast_round_scale(block_amax(w + at, kFp4AmaxFloor), kFp4InvQmax);
      body(at, r * nb + b, sc, ue8m0_decode(sc));
    }
}

}  // namespace

void fp4_qat_quantize(const float* w, int64_t rows, int64_t cols, uint8_t* q_packed, uint8_t* s) {
  check_cols("fp4_qat_quantize", rows, cols);
  for_each_block(w, rows, cols, [&](int64_t at, int64_t bi, uint8_t sc, float sv) {
    s[bi] = sc;
    for (int i = 0; i < kFp4Block; i += 2)
      q_packed[(at + i) / 2] = fp4_e2m1_pack(fp4_act_quant_element(w[at + i], sv),
                                             fp4_act_quant_element(w[at + i + 1], sv));
  });
}

void fp4_qat_fake_quant(const float* w, int64_t rows, int64_t cols, uint16_t* w_fq) {
  check_cols("fp4_qat_fake_quant", rows, cols);
  for_each_block(w, rows, cols, [&](int64_t at, int64_t, uint8_t, float sv) {
    for (int i = 0; i < kFp4Block; ++i)
      w_fq[at + i] = bf16_encode(fp4_e2m1_decode(fp4_act_quant_element(w[at + i], sv)) * sv);
  });
}

int64_t fp4_to_fp8_tiles(const uint8_t* q_packed, const uint8_t* s, int64_t rows, int64_t cols, uint8_t* w8,
                         uint8_t* s8) {
  constexpr int64_t T = kFp8Block;                  // 128 x 128 tiles
  constexpr int64_t kPerTileRow = T / kFp4Block;    // 4 FP4 scales per tile row
  constexpr uint8_t kMaxOffsetBits = 6;             // 6 · 2^6 = 384 <= 448; 6 · 2^7 would overflow e4m3
  if (rows < 0 || cols < 0 || rows % T || cols % T)
    throw std::invalid_argument("fp4_to_fp8_tiles: shape [" + std::to_string(rows) + ", " + std::to_string(cols) +
                                "] needs rows and cols multiples of 128");
  const int64_t nb = cols / kFp4Block, tr = rows / T, tc = cols / T;
  int64_t lossy = 0;
#pragma omp parallel for schedule(static) reduction(+ : lossy)
  for (int64_t t = 0; t < tr * tc; ++t) {
    const int64_t ti = t / tc, tj = t % tc;
    // Tile scale: the largest block scale / 2^6 (a NaN block scale makes the tile NaN, as torch's amax).
    bool nan = false;
    uint8_t cmax = 0;
    for (int64_t r = ti * T; r < (ti + 1) * T; ++r)
      for (int64_t k = 0; k < kPerTileRow; ++k) {
        const uint8_t c = s[r * nb + tj * kPerTileRow + k];
        nan |= c == 0xFF;
        if (c != 0xFF && c > cmax) cmax = c;
      }
    // fp32 value of max / 64 (2^-133 at the lowest: an fp32 subnormal, still exact); its e8m0 code rounds
    // to nearest, so below 2^-127 the stored tile scale is 2^-127 (code 0) and that tile is lossy.
    const float tile = nan ? f32_from_bits(kF32CanonicalNaN) : ue8m0_decode(cmax) / float(1u << kMaxOffsetBits);
    const uint8_t tile_code = nan ? uint8_t(0xFF) : uint8_t(cmax >= kMaxOffsetBits ? cmax - kMaxOffsetBits : 0);
    s8[ti * tc + tj] = tile_code;
    for (int64_t r = ti * T; r < (ti + 1) * T; ++r)
      for (int64_t c = tj * T; c < (tj + 1) * T; ++c) {
        const uint8_t sc = s[r * nb + c / kFp4Block];
        const float fp4 = fp4_e2m1_decode(fp4_e2m1_unpack(q_packed[(r * cols + c) / 2], int(c & 1)));
        const float offset = ue8m0_decode(sc) / tile;  // fp32 division, as convert.py
        const uint8_t code = fp8_e4m3_encode(fp4 * offset, Sat::nosat);
        w8[r * cols + c] = code;
        // Lossless means equal values; both sides are exact in double (small significands times 2^k).
        const double v8 = double(fp8_e4m3_decode(code)) * double(ue8m0_decode(tile_code));
        const double v4 = double(fp4) * double(ue8m0_decode(sc));
        if (!(v8 == v4)) ++lossy;
      }
  }
  return lossy;
}

void fp4_qat_backward(const float* grad_fq, int64_t n, float* grad_master) {
  if (n < 0) throw std::invalid_argument("fp4_qat_backward: negative size");
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) grad_master[i] = grad_fq[i];
}

}  // namespace v4
