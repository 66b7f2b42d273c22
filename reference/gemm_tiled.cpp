// The tiled, vectorised GEMM kernels behind reference/gemm.h (internal interface: reference/gemm_tiled.h).
// They compute exactly what the plain loops of reference/gemm.cpp define, bit for bit
// (tests/test_gemm_tiled.cpp), only faster: register tiles with GCC vector extensions, decode tables,
// OpenMP over output tiles. Arguments arrive checked (reference/gemm.cpp).
// Shape legend: A [M, K], B [N, K], C [M, N] = A·Bᵀ; KB = K/128 FP8 scale blocks, KB32 = K/32.
//
// The FP8/FP4 block sums are exact in binary64 in any order (reference/gemm.cpp, file comment), so the
// kernels below may sum a block in any order and fuse its multiply-adds without changing a bit.
#include "reference/gemm_tiled.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "reference/blocks.h"
#include "reference/wgmma_model.h"

namespace v4::gemm_tiled {

namespace {

constexpr int64_t kTileM = 128;        // rows of one OpenMP task's output tile (a multiple of kLanes)
constexpr int64_t kTileN = kFp8Block;  // columns of a sub-tile: they share one FP8 b_scale block
constexpr int64_t kMaxSubTiles = 4;    // sub-tiles per task: A is decoded once per task and K-block
constexpr int64_t kExactTileM = 64;    // exact recipe: one ExactAcc (~190 B) per output of a 64 × 128 tile
constexpr int kLanes = 8;              // A rows held in the vector lanes of the exact block-partial kernel
constexpr int kNB = 6;                 // B rows per register tile of that kernel
constexpr int64_t kFp4BlocksPerFp8Block = kFp8Block / kFp4Block;  // FP4 blocks under one activation scale

// ---------------------------------------------------------------------------------------------
// Element decodes to binary64, built once from the shared format definitions (reference/formats.h):
// a table lookup is the cheapest exact decode here (about one cycle per element; a branch-free,
// vectorised bit construction measured 1.5-2 cycles). FP8 B is looked up inside the kernel itself.
struct DecodeTables {
  double e4m3[256];
  double e2m1_pair[256][2];  // one packed byte -> (element 2t: low nibble, element 2t+1: high nibble)
};
const DecodeTables& decode_tables() {
  static const DecodeTables t = [] {
    DecodeTables x;
    for (int c = 0; c < 256; ++c) {
      x.e4m3[c] = double(fp8_e4m3_decode(uint8_t(c)));
      x.e2m1_pair[c][0] = double(fp4_e2m1_decode(fp4_e2m1_unpack(uint8_t(c), 0)));
      x.e2m1_pair[c][1] = double(fp4_e2m1_decode(fp4_e2m1_unpack(uint8_t(c), 1)));
    }
    return x;
  }();
  return t;
}
void decode_e4m3_row(const uint8_t* codes, int64_t n, double* out) {
  const double* T = decode_tables().e4m3;
  for (int64_t k = 0; k < n; ++k) out[k] = T[codes[k]];
}
void decode_e2m1_row(const uint8_t* packed, int64_t n, double* out) {  // n even
  const auto& T = decode_tables().e2m1_pair;
  for (int64_t t = 0; t < n / 2; ++t) {
    out[2 * t] = T[packed[t]][0];
    out[2 * t + 1] = T[packed[t]][1];
  }
}

// Hopper operand tables (reference/wgmma_model.h), built once from the shared format definitions.
struct WgmmaTables {
  WgmmaOperand e4m3[256];
  WgmmaOperand e2m1[16];  // e2m1 values converted exactly to e4m3 (Hopper has no FP4 MMA)
};
const WgmmaTables& wgmma_tables() {
  static const WgmmaTables t = [] {
    WgmmaTables x;
    const WgmmaModel& m = kWgmmaE4M3;
    for (int c = 0; c < 256; ++c) x.e4m3[c] = wgmma_operand(fp8_e4m3_decode(uint8_t(c)), m.a_mant_bits, m.a_emin);
    for (int c = 0; c < 16; ++c) x.e2m1[c] = wgmma_operand(fp4_e2m1_decode(uint8_t(c)), m.b_mant_bits, m.b_emin);
    return x;
  }();
  return t;
}

// Columns per task for the FP8/FP4 paths: up to kMaxSubTiles sub-tiles (fewer decodes of A), but at
// least two tasks per thread when N allows. Results do not depend on it (each output is computed alone).
int64_t fp_tile_n(int64_t N) {
  const int64_t subtiles = ceil_div(N, kTileN);
  const int64_t per_task = subtiles / (2 * int64_t(omp_get_max_threads()));
  return kTileN * std::clamp<int64_t>(per_task, 1, kMaxSubTiles);
}

// Runs f(m0, mt, n0, nt) over output tiles; each task owns its outputs, so any schedule gives the same bits.
template <class F>
void for_each_tile(int64_t M, int64_t N, int64_t tile_m, int64_t tile_n, F&& f) {
  const int64_t tiles_m = ceil_div(M, tile_m), tiles_n = ceil_div(N, tile_n);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t t = 0; t < tiles_m * tiles_n; ++t) {
    const int64_t m0 = (t / tiles_n) * tile_m, n0 = (t % tiles_n) * tile_n;
    f(m0, int(std::min(tile_m, M - m0)), n0, int(std::min(tile_n, N - n0)));
  }
}

// ---------------------------------------------------------------------------------------------
// Exact block partials, register tile: out[jr][ii] = Σ_{k<KC} at[k][ii] · b[jr][k] for 8 A rows ii (the
// vector lanes) and NB B rows jr. Binary64 and exact (file comment), so neither the order nor fusing the
// multiply-add changes a bit; GCC vector extensions keep the 2·NB accumulators in registers.
// at: KC × 8 (an A strip, transposed); b: NB rows at stride ldb, either e4m3 codes (uint8_t, decoded by
// table in the loop: no separate decode pass over B) or decoded values (double).
typedef double v4d __attribute__((vector_size(32)));

// a·b + c for the exact kernel. Fused where the target has FMA: one instruction instead of two; the
// value is the same because every product and sum in the kernel is exact.
inline v4d v4d_mul_add(v4d a, v4d b, v4d c) {
#if defined(__FMA__)
  return __builtin_ia32_vfmaddpd256(a, b, c);
#else
  return a * b + c;
#endif
}

inline double b_value(uint8_t code, const double* table) { return table[code]; }
inline double b_value(double v, const double*) { return v; }

template <int NB, int KC, class BT>
void exact_partials_kernel(const double* at, const BT* b, int64_t ldb, double* out) {
  const double* table = decode_tables().e4m3;
  v4d acc[NB][2];
  for (int jr = 0; jr < NB; ++jr) acc[jr][0] = acc[jr][1] = v4d{0, 0, 0, 0};
  for (int k = 0; k < KC; ++k) {
    v4d a0, a1;
    std::memcpy(&a0, at + kLanes * k, sizeof a0);
    std::memcpy(&a1, at + kLanes * k + 4, sizeof a1);
#pragma GCC unroll 8
    for (int jr = 0; jr < NB; ++jr) {
      const double s = b_value(b[jr * ldb + k], table);
      const v4d bv = {s, s, s, s};
      acc[jr][0] = v4d_mul_add(a0, bv, acc[jr][0]);
      acc[jr][1] = v4d_mul_add(a1, bv, acc[jr][1]);
    }
  }
  for (int jr = 0; jr < NB; ++jr) {
    std::memcpy(out + jr * kLanes, &acc[jr][0], sizeof(v4d));
    std::memcpy(out + jr * kLanes + 4, &acc[jr][1], sizeof(v4d));
  }
}

template <int KC, class BT>
void exact_partials(int nb, const double* at, const BT* b, int64_t ldb, double* out) {
  switch (nb) {
    case 6: return exact_partials_kernel<6, KC>(at, b, ldb, out);
    case 5: return exact_partials_kernel<5, KC>(at, b, ldb, out);
    case 4: return exact_partials_kernel<4, KC>(at, b, ldb, out);
    case 3: return exact_partials_kernel<3, KC>(at, b, ldb, out);
    case 2: return exact_partials_kernel<2, KC>(at, b, ldb, out);
    default: return exact_partials_kernel<1, KC>(at, b, ldb, out);
  }
}

// One 128-block of A rows m0..m0+mt, decoded and transposed into strips of 8 rows: at[s][k][ii]
// (rows past mt are zero).
void decode_a_block_strips(const uint8_t* a, int64_t K, int64_t m0, int mt, int64_t kb, double* at, double* row) {
  const int strips = int(ceil_div(mt, kLanes));
  for (int s = 0; s < strips; ++s)
    for (int ii = 0; ii < kLanes; ++ii) {
      const int i = s * kLanes + ii;
      double* dst = at + int64_t(s) * kFp8Block * kLanes + ii;
      if (i < mt) {
        decode_e4m3_row(a + (m0 + i) * K + kb * kFp8Block, kFp8Block, row);
        for (int k = 0; k < kFp8Block; ++k) dst[k * kLanes] = row[k];
      } else {
        for (int k = 0; k < kFp8Block; ++k) dst[k * kLanes] = 0.0;
      }
    }
}

// For every K-block of one output tile, in ascending order, the exact block partials, handed over one
// register tile at a time: sink(kb, i0, j0, nb, tile) with tile[jr][ii] = partial of output
// (m0 + i0 + ii, n0 + j0 + jr), jr < nb, ii < 8 (rows i0 + ii >= mt are padding). Register tiles never
// straddle a 128-column sub-tile. A is decoded once per K-block. FP8: B codes [N, K], read by the kernel.
template <class Sink>
void fp8_tile_partials(const uint8_t* a, const uint8_t* b, int64_t K, int64_t m0, int mt, int64_t n0, int nt,
                       Sink&& sink) {
  const int strips = int(ceil_div(mt, kLanes));
  std::vector<double> at(size_t(strips) * kFp8Block * kLanes), row(kFp8Block), tile(kNB * kLanes);
  for (int64_t kb = 0; kb < K / kFp8Block; ++kb) {
    decode_a_block_strips(a, K, m0, mt, kb, at.data(), row.data());
    for (int u0 = 0; u0 < nt; u0 += int(kTileN)) {
      const int un = std::min(int(kTileN), nt - u0);
      for (int s = 0; s < strips; ++s)
        for (int j0 = 0; j0 < un; j0 += kNB) {
          const int nb = std::min(kNB, un - j0);
          exact_partials<kFp8Block>(nb, at.data() + int64_t(s) * kFp8Block * kLanes,
                                    b + (n0 + u0 + j0) * K + kb * kFp8Block, K, tile.data());
          sink(kb, s * kLanes, u0 + j0, nb, tile.data());
        }
    }
  }
}

// FP4: blocks of 32 (kb32 ascending, same sink); B e2m1 packed [N, K/2].
template <class Sink>
void fp4_tile_partials(const uint8_t* a, const uint8_t* b_packed, int64_t K, int64_t m0, int mt, int64_t n0,
                       int nt, Sink&& sink) {
  const int strips = int(ceil_div(mt, kLanes));
  std::vector<double> at(size_t(strips) * kFp8Block * kLanes), bd(size_t(kTileN) * kFp4Block), row(kFp8Block),
      tile(kNB * kLanes);
  for (int64_t kb32 = 0; kb32 < K / kFp4Block; ++kb32) {
    const int64_t q = kb32 % kFp4BlocksPerFp8Block;
    if (q == 0) decode_a_block_strips(a, K, m0, mt, kb32 / kFp4BlocksPerFp8Block, at.data(), row.data());
    for (int u0 = 0; u0 < nt; u0 += int(kTileN)) {
      const int un = std::min(int(kTileN), nt - u0);
      for (int j = 0; j < un; ++j)
        decode_e2m1_row(b_packed + (n0 + u0 + j) * fp4_e2m1_row_bytes(K) + fp4_e2m1_row_bytes(kb32 * kFp4Block),
                        kFp4Block, bd.data() + int64_t(j) * kFp4Block);
      for (int s = 0; s < strips; ++s)
        for (int j0 = 0; j0 < un; j0 += kNB) {
          const int nb = std::min(kNB, un - j0);
          exact_partials<kFp4Block>(nb, at.data() + (int64_t(s) * kFp8Block + q * kFp4Block) * kLanes,
                                    bd.data() + int64_t(j0) * kFp4Block, kFp4Block, tile.data());
          sink(kb32, s * kLanes, u0 + j0, nb, tile.data());
        }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output of one tile. Row-major acc[i][j] (stride nt) or transposed acc_t[j][i] (stride ld).
void store_tile_bf16(const float* acc, int64_t N, int64_t m0, int mt, int64_t n0, int nt, uint16_t* c) {
  for (int i = 0; i < mt; ++i)
    for (int j = 0; j < nt; ++j) c[(m0 + i) * N + n0 + j] = bf16_encode(acc[i * nt + j]);
}
// fp32 outputs carry the canonical NaN (formats.h: f32_canonical_nan), as reference/gemm.cpp's.
void store_tile_f32(const float* acc, int64_t N, int64_t m0, int mt, int64_t n0, int nt, float* c) {
  for (int i = 0; i < mt; ++i)
    for (int j = 0; j < nt; ++j) c[(m0 + i) * N + n0 + j] = f32_canonical_nan(acc[i * nt + j]);
}
void store_tile_t(const float* acc_t, int64_t ld, int64_t N, int64_t m0, int mt, int64_t n0, int nt, float* c_f32,
                  uint16_t* c_bf16) {
  for (int i = 0; i < mt; ++i)
    for (int j = 0; j < nt; ++j) {
      const float v = acc_t[j * ld + i];
      if (c_f32) c_f32[(m0 + i) * N + n0 + j] = f32_canonical_nan(v);
      if (c_bf16) c_bf16[(m0 + i) * N + n0 + j] = bf16_encode(v);
    }
}

// The output of the exact recipe: fp32 (f32acc) or bf16 rounded once from the exact value.
struct ExactOut {
  float* f32;
  uint16_t* bf16;
  int64_t N;
  void store(const ExactAcc& acc, int64_t m, int64_t n) const {
    if (f32) f32[m * N + n] = f32_canonical_nan(acc.round_to_f32());
    if (bf16) bf16[m * N + n] = bf16_encode(acc.round_to_bf16_value());
  }
};

// ---------------------------------------------------------------------------------------------
// FP8 recipes. Out: c_f32 (the fp32 accumulator) or c_bf16.
// One fp8 output tile per recipe. Canonical: transposed accumulators acc[j][i], ld = rows padded to the
// 8-row strips.
void fp8_tile_canonical(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block, ld = ceil_div(mt, kLanes) * kLanes;
  std::vector<float> acc(size_t(nt) * ld, 0.0f), sa(size_t(ld), 0.0f);
  int64_t sa_kb = -1;
  fp8_tile_partials(g.a, g.b, g.K, m0, mt, n0, nt, [&](int64_t kb, int i0, int j0, int nb, const double* tile) {
    if (kb != sa_kb) {
      for (int i = 0; i < mt; ++i) sa[i] = ue8m0_decode(g.a_scale[(m0 + i) * KB + kb]);
      sa_kb = kb;
    }
    const float sb = ue8m0_decode(g.b_scale[((n0 + j0) / kFp8Block) * KB + kb]);
    // acc = fma(fp32_rne(exact partial), fp32(sa·sb), acc); fp32(sa·sb) is one IEEE multiply, as in the kernels.
    for (int jr = 0; jr < nb; ++jr) {
      float* dst = acc.data() + (j0 + jr) * ld + i0;
      for (int ii = 0; ii < kLanes; ++ii) dst[ii] = std::fma(float(tile[jr * kLanes + ii]), sa[i0 + ii] * sb, dst[ii]);
    }
  });
  store_tile_t(acc.data(), ld, g.N, m0, mt, n0, nt, c_f32, c_bf16);
}

void fp8_tile_exact(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block;
  std::vector<ExactAcc> acc(size_t(nt) * mt);
  fp8_tile_partials(g.a, g.b, g.K, m0, mt, n0, nt, [&](int64_t kb, int i0, int j0, int nb, const double* tile) {
    const uint8_t sb = g.b_scale[((n0 + j0) / kFp8Block) * KB + kb];
    for (int jr = 0; jr < nb; ++jr)
      for (int ii = 0; ii < kLanes && i0 + ii < mt; ++ii)
        exact_add_block(acc[size_t(j0 + jr) * mt + i0 + ii], tile[jr * kLanes + ii], kFp8PartialExp,
                        g.a_scale[(m0 + i0 + ii) * KB + kb], sb);
  });
  const ExactOut out{c_f32, c_bf16, g.N};
  for (int i = 0; i < mt; ++i)
    for (int j = 0; j < nt; ++j) out.store(acc[size_t(j) * mt + i], m0 + i, n0 + j);
}

// hopper: per 128-block, 4 chained k32 wgmma from zero, then acc = fma(d, fp32(sa·sb), acc).
void fp8_tile_hopper(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block;
  const WgmmaOperand* T = wgmma_tables().e4m3;
  std::vector<float> acc(size_t(mt) * nt, 0.0f);
  std::vector<WgmmaOperand> aop(size_t(mt) * kFp8Block), bop(size_t(nt) * kFp8Block);
  for (int64_t kb = 0; kb < KB; ++kb) {
    for (int i = 0; i < mt; ++i)
      for (int k = 0; k < kFp8Block; ++k) aop[i * kFp8Block + k] = T[g.a[(m0 + i) * g.K + kb * kFp8Block + k]];
    for (int j = 0; j < nt; ++j)
      for (int k = 0; k < kFp8Block; ++k) bop[j * kFp8Block + k] = T[g.b[(n0 + j) * g.K + kb * kFp8Block + k]];
    for (int i = 0; i < mt; ++i) {
      const float sa = ue8m0_decode(g.a_scale[(m0 + i) * KB + kb]);
      for (int j = 0; j < nt; ++j) {
        float d = 0.0f;
        for (int64_t q = 0; q < kFp8Block; q += kWgmmaE4M3K)
          d = wgmma_fused_dot_add(&aop[i * kFp8Block + q], &bop[j * kFp8Block + q], kWgmmaE4M3K, d, kWgmmaE4M3);
        const float s = sa * ue8m0_decode(g.b_scale[((n0 + j) / kFp8Block) * KB + kb]);
        acc[size_t(i) * nt + j] = std::fma(d, s, acc[size_t(i) * nt + j]);
      }
    }
  }
  if (c_f32) store_tile_f32(acc.data(), g.N, m0, mt, n0, nt, c_f32);
  if (c_bf16) store_tile_bf16(acc.data(), g.N, m0, mt, n0, nt, c_bf16);
}

void fp8_run(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) {
  auto tile = r == Recipe::canonical ? fp8_tile_canonical : r == Recipe::hopper ? fp8_tile_hopper : fp8_tile_exact;
  const bool exact = r == Recipe::exact;
  for_each_tile(g.M, g.N, exact ? kExactTileM : kTileM, exact ? kTileN : fp_tile_n(g.N),
                [&](int64_t m0, int mt, int64_t n0, int nt) { tile(g, m0, mt, n0, nt, c_f32, c_bf16); });
}

// ---------------------------------------------------------------------------------------------
// FP4×FP8 recipes: per 32-block kb32, acc = fma(fp32(p · sa[m, kb32/4]), sb[n, kb32], acc).
// acc = fma(fp32(p · sa), sb, acc): the kernel's (p·sa)·sb with the last multiply-add contracted.
void fp4_tile_canonical(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block, KB32 = g.K / kFp4Block, ld = ceil_div(mt, kLanes) * kLanes;
  std::vector<float> acc(size_t(nt) * ld, 0.0f), sa(size_t(ld), 0.0f);
  int64_t sa_kb = -1;
  fp4_tile_partials(g.a, g.b, g.K, m0, mt, n0, nt, [&](int64_t kb32, int i0, int j0, int nb, const double* tile) {
    if (kb32 / kFp4BlocksPerFp8Block != sa_kb) {
      sa_kb = kb32 / kFp4BlocksPerFp8Block;
      for (int i = 0; i < mt; ++i) sa[i] = ue8m0_decode(g.a_scale[(m0 + i) * KB + sa_kb]);
    }
    for (int jr = 0; jr < nb; ++jr) {
      const float sb = ue8m0_decode(g.b_scale[(n0 + j0 + jr) * KB32 + kb32]);
      float* dst = acc.data() + (j0 + jr) * ld + i0;
      for (int ii = 0; ii < kLanes; ++ii) {
        const float t = float(tile[jr * kLanes + ii]) * sa[i0 + ii];
        dst[ii] = std::fma(t, sb, dst[ii]);
      }
    }
  });
  store_tile_t(acc.data(), ld, g.N, m0, mt, n0, nt, c_f32, c_bf16);
}

void fp4_tile_exact(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block, KB32 = g.K / kFp4Block;
  std::vector<ExactAcc> acc(size_t(nt) * mt);
  fp4_tile_partials(g.a, g.b, g.K, m0, mt, n0, nt, [&](int64_t kb32, int i0, int j0, int nb, const double* tile) {
    for (int jr = 0; jr < nb; ++jr)
      for (int ii = 0; ii < kLanes && i0 + ii < mt; ++ii)
        exact_add_block(acc[size_t(j0 + jr) * mt + i0 + ii], tile[jr * kLanes + ii], kFp4PartialExp,
                        g.a_scale[(m0 + i0 + ii) * KB + kb32 / kFp4BlocksPerFp8Block], g.b_scale[(n0 + j0 + jr) * KB32 + kb32]);
  });
  const ExactOut out{c_f32, c_bf16, g.N};
  for (int i = 0; i < mt; ++i)
    for (int j = 0; j < nt; ++j) out.store(acc[size_t(j) * mt + i], m0 + i, n0 + j);
}

// hopper: e2m1 converted exactly to e4m3, one k32 wgmma from zero per 32-block, canonical promotion.
void fp4_tile_hopper(const ScaledArgs& g, int64_t m0, int mt, int64_t n0, int nt, float* c_f32, uint16_t* c_bf16) {
  const int64_t KB = g.K / kFp8Block, KB32 = g.K / kFp4Block;
  const WgmmaTables& T = wgmma_tables();
  std::vector<float> acc(size_t(mt) * nt, 0.0f);
  std::vector<WgmmaOperand> aop(size_t(mt) * kFp4Block), bop(size_t(nt) * kFp4Block);
  for (int64_t kb32 = 0; kb32 < KB32; ++kb32) {
    for (int i = 0; i < mt; ++i)
      for (int k = 0; k < kFp4Block; ++k) aop[i * kFp4Block + k] = T.e4m3[g.a[(m0 + i) * g.K + kb32 * kFp4Block + k]];
    for (int j = 0; j < nt; ++j)
      for (int k = 0; k < kFp4Block; ++k)
        bop[j * kFp4Block + k] = T.e2m1[fp4_e2m1_get(g.b + (n0 + j) * fp4_e2m1_row_bytes(g.K), kb32 * kFp4Block + k)];
    for (int i = 0; i < mt; ++i) {
      const float sa = ue8m0_decode(g.a_scale[(m0 + i) * KB + kb32 / kFp4BlocksPerFp8Block]);
      for (int j = 0; j < nt; ++j) {
        const float d = wgmma_fused_dot_add(&aop[i * kFp4Block], &bop[j * kFp4Block], kWgmmaE4M3K, 0.0f, kWgmmaE4M3);
        const float t = d * sa;
        acc[size_t(i) * nt + j] = std::fma(t, ue8m0_decode(g.b_scale[(n0 + j) * KB32 + kb32]), acc[size_t(i) * nt + j]);
      }
    }
  }
  if (c_f32) store_tile_f32(acc.data(), g.N, m0, mt, n0, nt, c_f32);
  if (c_bf16) store_tile_bf16(acc.data(), g.N, m0, mt, n0, nt, c_bf16);
}

void fp4_run(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) {
  auto tile = r == Recipe::canonical ? fp4_tile_canonical : r == Recipe::hopper ? fp4_tile_hopper : fp4_tile_exact;
  const bool exact = r == Recipe::exact;
  for_each_tile(g.M, g.N, exact ? kExactTileM : kTileM, exact ? kTileN : fp_tile_n(g.N),
                [&](int64_t m0, int mt, int64_t n0, int nt) { tile(g, m0, mt, n0, nt, c_f32, c_bf16); });
}

// ---------------------------------------------------------------------------------------------
// bf16 / fp32 recipes. Elements are read through `load` (bf16 decode or identity).
constexpr int64_t kDotChunk = 256;  // K chunk of the decoded operands
constexpr int kDotLanes = 16;       // A rows per strip of the canonical kernel: two 8-wide float vectors

// Canonical register tile: for 16 A rows (vector lanes) × NB B rows, acc[jr][ii] = fma(a[ii][k], b[jr][k],
// acc) for k = 0 .. kc-1 in order: each lane is one output's sequential fp32 FMA chain, continued from the
// values in c (row stride ldc) and written back there. at: kc × 16 (an A strip, transposed); b: NB rows
// of decoded values at stride ldb.
typedef float v8f __attribute__((vector_size(32)));

// IEEE fma per lane (the recipe's operation, so it must be fused: the fallback calls std::fma).
inline v8f v8f_fma(v8f a, v8f b, v8f c) {
#if defined(__FMA__)
  return __builtin_ia32_vfmaddps256(a, b, c);
#else
  for (int l = 0; l < 8; ++l) c[l] = std::fma(a[l], b[l], c[l]);
  return c;
#endif
}

template <int NB>
void fma_chain_kernel(const float* at, const float* b, int64_t ldb, int kc, float* c, int64_t ldc) {
  v8f acc[NB][2];
  for (int jr = 0; jr < NB; ++jr) {
    std::memcpy(&acc[jr][0], c + jr * ldc, sizeof(v8f));
    std::memcpy(&acc[jr][1], c + jr * ldc + 8, sizeof(v8f));
  }
  for (int k = 0; k < kc; ++k) {
    v8f a0, a1;
    std::memcpy(&a0, at + kDotLanes * k, sizeof a0);
    std::memcpy(&a1, at + kDotLanes * k + 8, sizeof a1);
#pragma GCC unroll 8
    for (int jr = 0; jr < NB; ++jr) {
      const float s = b[jr * ldb + k];
      const v8f bv = {s, s, s, s, s, s, s, s};
      acc[jr][0] = v8f_fma(a0, bv, acc[jr][0]);
      acc[jr][1] = v8f_fma(a1, bv, acc[jr][1]);
    }
  }
  for (int jr = 0; jr < NB; ++jr) {
    std::memcpy(c + jr * ldc, &acc[jr][0], sizeof(v8f));
    std::memcpy(c + jr * ldc + 8, &acc[jr][1], sizeof(v8f));
  }
}

void fma_chain(int nb, const float* at, const float* b, int64_t ldb, int kc, float* c, int64_t ldc) {
  switch (nb) {
    case 6: return fma_chain_kernel<6>(at, b, ldb, kc, c, ldc);
    case 5: return fma_chain_kernel<5>(at, b, ldb, kc, c, ldc);
    case 4: return fma_chain_kernel<4>(at, b, ldb, kc, c, ldc);
    case 3: return fma_chain_kernel<3>(at, b, ldb, kc, c, ldc);
    case 2: return fma_chain_kernel<2>(at, b, ldb, kc, c, ldc);
    default: return fma_chain_kernel<1>(at, b, ldb, kc, c, ldc);
  }
}

// Canonical tile: sequential fp32 FMA in ascending k from +0 for every output (acc_t[j][i], ld = rows
// padded to 16), K in chunks; A strips decoded and transposed, B rows decoded, per chunk.
template <class T, class Load>
void dot_tile_canonical(const T* a, const T* b, int64_t K, Load load, int64_t m0, int mt, int64_t n0, int nt,
                        std::vector<float>& acc_t, int64_t& ld) {
  const int strips = int(ceil_div(mt, kDotLanes));
  ld = int64_t(strips) * kDotLanes;
  acc_t.assign(size_t(nt) * ld, 0.0f);
  std::vector<float> at(size_t(strips) * kDotChunk * kDotLanes), bd(size_t(nt) * kDotChunk);
  for (int64_t k0 = 0; k0 < K; k0 += kDotChunk) {
    const int kc = int(std::min(kDotChunk, K - k0));
    for (int i = 0; i < strips * kDotLanes; ++i) {
      float* dst = at.data() + (i / kDotLanes) * kDotChunk * kDotLanes + i % kDotLanes;
      for (int k = 0; k < kc; ++k) dst[k * kDotLanes] = i < mt ? load(a[(m0 + i) * K + k0 + k]) : 0.0f;
    }
    for (int j = 0; j < nt; ++j)
      for (int k = 0; k < kc; ++k) bd[size_t(j) * kDotChunk + k] = load(b[(n0 + j) * K + k0 + k]);
    for (int s = 0; s < strips; ++s)
      for (int j0 = 0; j0 < nt; j0 += kNB)
        fma_chain(std::min(kNB, nt - j0), at.data() + int64_t(s) * kDotChunk * kDotLanes,
                  bd.data() + int64_t(j0) * kDotChunk, kDotChunk, kc, acc_t.data() + j0 * ld + s * kDotLanes, ld);
  }
}

// hopper bf16 tile: one chain of k16 wgmma per output over all of K, from c_init (null: zero), no
// promotion; a K tail is padded with zero products. acc[i][j] row-major.
template <class T, class Load>
void dot_tile_hopper(const T* a, const T* b, int64_t N, int64_t K, Load load, const float* c_init, int64_t m0,
                     int mt, int64_t n0, int nt, std::vector<float>& acc) {
  acc.assign(size_t(mt) * nt, 0.0f);
  if (c_init)
    for (int i = 0; i < mt; ++i)
      for (int j = 0; j < nt; ++j) acc[size_t(i) * nt + j] = c_init[(m0 + i) * N + n0 + j];
  const int64_t chunk = kDotChunk;
  std::vector<WgmmaOperand> aop(size_t(mt) * chunk), bop(size_t(nt) * chunk);
  for (int64_t k0 = 0; k0 < K; k0 += chunk) {
    const int64_t kc = std::min(chunk, K - k0);
    const int64_t kpad = ceil_div(kc, kWgmmaBF16K) * kWgmmaBF16K;
    auto split = [&](const T* row, int64_t k) {
      return k < kc ? wgmma_operand(load(row[k0 + k]), kWgmmaBF16.a_mant_bits, kWgmmaBF16.a_emin)
                    : WgmmaOperand{0, kWgmmaBF16.a_emin};
    };
    for (int i = 0; i < mt; ++i)
      for (int64_t k = 0; k < kpad; ++k) aop[i * chunk + k] = split(a + (m0 + i) * K, k);
    for (int j = 0; j < nt; ++j)
      for (int64_t k = 0; k < kpad; ++k) bop[j * chunk + k] = split(b + (n0 + j) * K, k);
    for (int i = 0; i < mt; ++i)
      for (int j = 0; j < nt; ++j) {
        float d = acc[size_t(i) * nt + j];
        for (int64_t q = 0; q < kpad; q += kWgmmaBF16K)
          d = wgmma_fused_dot_add(&aop[i * chunk + q], &bop[j * chunk + q], kWgmmaBF16K, d, kWgmmaBF16);
        acc[size_t(i) * nt + j] = d;
      }
  }
}

// c_init: the hopper chain's initial accumulator (null: zeros); unused by the other recipes.
template <class T, class Load>
void dot_run(const T* a, const T* b, int64_t M, int64_t N, int64_t K, Recipe r, Load load, const float* c_init,
             float* c_f32, uint16_t* c_bf16) {
  if (r == Recipe::exact) {
    const ExactOut out{c_f32, c_bf16, N};
    for_each_tile(M, N, kTileM, kTileN, [&](int64_t m0, int mt, int64_t n0, int nt) {
      ExactAcc acc;
      for (int i = 0; i < mt; ++i)
        for (int j = 0; j < nt; ++j) {
          acc.clear();
          const T* ar = a + (m0 + i) * K;
          const T* br = b + (n0 + j) * K;
          for (int64_t k = 0; k < K; ++k) acc.add_product(load(ar[k]), load(br[k]));
          out.store(acc, m0 + i, n0 + j);
        }
    });
    return;
  }
  for_each_tile(M, N, kTileM, kTileN, [&](int64_t m0, int mt, int64_t n0, int nt) {
    std::vector<float> acc;
    if (r == Recipe::canonical) {
      int64_t ld = 0;
      dot_tile_canonical(a, b, K, load, m0, mt, n0, nt, acc, ld);
      store_tile_t(acc.data(), ld, N, m0, mt, n0, nt, c_f32, c_bf16);
    } else {
      dot_tile_hopper(a, b, N, K, load, c_init, m0, mt, n0, nt, acc);
      if (c_f32) store_tile_f32(acc.data(), N, m0, mt, n0, nt, c_f32);
      if (c_bf16) store_tile_bf16(acc.data(), N, m0, mt, n0, nt, c_bf16);
    }
  });
}

float load_bf16(uint16_t x) { return bf16_decode(x); }
float load_f32(float x) { return x; }

}  // namespace

// ---------------------------------------------------------------------------------------------
void fp8_gemm(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) { fp8_run(g, r, c_f32, c_bf16); }
void fp4_gemm(const ScaledArgs& g, Recipe r, float* c_f32, uint16_t* c_bf16) { fp4_run(g, r, c_f32, c_bf16); }

void bf16_gemm(const uint16_t* a, const uint16_t* b, int64_t M, int64_t N, int64_t K, Recipe r, const float* c_init,
               float* c_f32, uint16_t* c_bf16) {
  dot_run(a, b, M, N, K, r, load_bf16, c_init, c_f32, c_bf16);
}

void f32_gemm(const float* a, const float* b, int64_t M, int64_t N, int64_t K, Recipe r, float* c) {
  // hopper == canonical for fp32: no tensor cores (TF32 off), see docs/gemm.md.
  dot_run(a, b, M, N, K, r == Recipe::hopper ? Recipe::canonical : r, load_f32, nullptr, c, nullptr);
}

void hopper_fp8_chains(const uint8_t* a, const uint8_t* b, int64_t M, int64_t N, int64_t K, int64_t promote_every,
                       const float* c_init, float* c) {
  const WgmmaOperand* T = wgmma_tables().e4m3;
  const int64_t group = promote_every > 0 ? promote_every : K;
  for_each_tile(M, N, kTileM, kTileN, [&](int64_t m0, int mt, int64_t n0, int nt) {
    std::vector<WgmmaOperand> aop(static_cast<size_t>(K)), bop(static_cast<size_t>(nt) * K);
    for (int j = 0; j < nt; ++j)
      for (int64_t k = 0; k < K; ++k) bop[j * K + k] = T[b[(n0 + j) * K + k]];
    for (int i = 0; i < mt; ++i) {
      for (int64_t k = 0; k < K; ++k) aop[k] = T[a[(m0 + i) * K + k]];
      for (int j = 0; j < nt; ++j) {
        const float init = c_init ? c_init[(m0 + i) * N + n0 + j] : 0.0f;
        float acc = init;
        for (int64_t g0 = 0; g0 < K; g0 += group) {
          float d = promote_every > 0 ? 0.0f : init;
          for (int64_t q = g0; q < g0 + group; q += kWgmmaE4M3K)
            d = wgmma_fused_dot_add(&aop[q], &bop[j * K + q], kWgmmaE4M3K, d, kWgmmaE4M3);
          acc = promote_every > 0 ? hopper_promote_add(acc, d) : d;
        }
        c[(m0 + i) * N + n0 + j] = f32_canonical_nan(acc);
      }
    }
  });
}

}  // namespace v4::gemm_tiled
