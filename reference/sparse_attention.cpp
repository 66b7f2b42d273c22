// sparse_attention: see sparse_attention.h. Shape legend: T queries, H heads, c head dim, K list width,
// B = kAttnBlock. The canonical loops below are plain C++; each output keeps its own sequential fp32 fma
// chain (the order of design.md §3), written so that the compiler vectorizes across independent outputs.
#include "reference/sparse_attention.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/exact_acc.h"
#include "reference/formats.h"
#include "reference/gemm.h"
#include "reference/pmath.h"
#include "reference/reduce.h"

namespace v4 {

namespace {

constexpr int B = kAttnBlock;
constexpr float kNegInf = -__builtin_inff();

struct Scratch {
  std::vector<float> qf;         // [H, c]  q of this query, fp32
  std::vector<uint16_t> kvb;     // [B, c]  the block's kv rows (bf16 codes, zero rows for -1)
  std::vector<uint16_t> kvtb;    // [c, B]  transposed bf16 codes (hopper P·V)
  std::vector<float> kvf;        // [B, c]  fp32
  std::vector<float> kvt;        // [c, B]  fp32, transposed (canonical QK: lanes over j)
  std::vector<float> z;          // [H, B]  logits, then probabilities
  std::vector<uint16_t> pb;      // [H, B]  bf16(p)
  std::vector<float> o, l, m, alpha;  // [H, c], [H], [H], [H]
  Scratch(int64_t H, int64_t c)
      : qf(H * c), kvb(B * c), kvtb(c * B), kvf(B * c), kvt(c * B), z(H * B), pb(H * B), o(H * c), l(H), m(H),
        alpha(H) {}
};

// z[h, j] = Σ_d q[h, d] · kv[j, d], canonical: one fma chain per (h, j) in ascending d.
void qk_canonical(const Scratch& s, int64_t H, int64_t c, float* z) {
  for (int64_t h = 0; h < H; ++h) {
    float acc[B] = {};
    const float* qh = s.qf.data() + h * c;
    for (int64_t d = 0; d < c; ++d) {
      const float qv = qh[d];
      const float* kr = s.kvt.data() + d * B;
      for (int j = 0; j < B; ++j) acc[j] = std::fma(qv, kr[j], acc[j]);
    }
    for (int j = 0; j < B; ++j) z[h * B + j] = acc[j];
  }
}

// o[h, :] += Σ_j bf16(p[h, j]) · kv[j, :], canonical: one fma chain per (h, d) in ascending j, continued
// from o (the MMA accumulates into the rescaled accumulator). 64-wide d chunks stay in registers.
void pv_canonical(const Scratch& s, int64_t H, int64_t c, float* o) {
  constexpr int64_t D = 64;
  for (int64_t h = 0; h < H; ++h) {
    float p[B];
    for (int j = 0; j < B; ++j) p[j] = bf16_decode(s.pb[h * B + j]);
    for (int64_t d0 = 0; d0 < c; d0 += D) {
      const int64_t dn = c - d0 < D ? c - d0 : D;
      float acc[D];
      for (int64_t dd = 0; dd < dn; ++dd) acc[dd] = o[h * c + d0 + dd];
      for (int j = 0; j < B; ++j) {
        const float* vr = s.kvf.data() + j * c + d0;
        for (int64_t dd = 0; dd < dn; ++dd) acc[dd] = std::fma(p[j], vr[dd], acc[dd]);
      }
      for (int64_t dd = 0; dd < dn; ++dd) o[h * c + d0 + dd] = acc[dd];
    }
  }
}

// exact: o·α + Σ_j bf16(p_j)·kv[j, d] exactly, rounded once to fp32 (the rescale is part of the one rounding).
void pv_exact(const Scratch& s, int64_t H, int64_t c, float* o) {
  ExactAcc acc;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t d = 0; d < c; ++d) {
      acc.clear();
      acc.add_product(o[h * c + d], s.alpha[h]);
      for (int j = 0; j < B; ++j) acc.add_product(bf16_decode(s.pb[h * B + j]), s.kvf[j * c + d]);
      o[h * c + d] = acc.round_to_f32();
    }
}

}  // namespace

void sparse_attention(const uint16_t* q, const uint16_t* kv, int64_t N, const int32_t* idx, int64_t T, int64_t K,
                      int64_t H, int64_t c, const float* sink, float scale, Recipe r, uint16_t* out,
                      const RopeTable* derotate, const int32_t* q_pos) {
  if (T < 0 || K < 0 || H <= 0 || c <= 0 || N < 0)
    throw std::invalid_argument("sparse_attention: bad shape T=" + std::to_string(T) + " K=" + std::to_string(K) +
                                " H=" + std::to_string(H) + " c=" + std::to_string(c) + " N=" + std::to_string(N));
  for (int64_t i = 0; i < T * K; ++i)
    if (idx[i] < -1 || idx[i] >= N)
      throw std::invalid_argument("sparse_attention: index " + std::to_string(idx[i]) + " at [" + std::to_string(i / K) +
                                  ", " + std::to_string(i % K) + "] outside [-1, " + std::to_string(N) + ")");
  if (derotate && !q_pos) throw std::invalid_argument("sparse_attention: derotate needs q_pos");
  const int64_t nblocks = (K + B - 1) / B;
#pragma omp parallel
  {
    Scratch s(H, c);
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < T; ++t) {
      const uint16_t* qt = q + t * H * c;  // [H, c]
      for (int64_t i = 0; i < H * c; ++i) s.qf[i] = bf16_decode(qt[i]);
      std::fill(s.o.begin(), s.o.end(), 0.0f);
      std::fill(s.l.begin(), s.l.end(), 0.0f);
      std::fill(s.m.begin(), s.m.end(), kNegInf);
      for (int64_t b = 0; b < nblocks; ++b) {
        bool valid[B];
        for (int j = 0; j < B; ++j) {  // gather: kv rows of the block, zeros for -1 and past the list
          const int64_t at = b * B + j;
          const int32_t e = at < K ? idx[t * K + at] : -1;
          valid[j] = e >= 0;
          for (int64_t d = 0; d < c; ++d) {
            const uint16_t code = valid[j] ? kv[int64_t(e) * c + d] : uint16_t(0);
            s.kvb[j * c + d] = code;
            s.kvtb[d * B + j] = code;
            s.kvf[j * c + d] = s.kvt[d * B + j] = bf16_decode(code);
          }
        }
        float* z = s.z.data();  // [H, B]
        if (r == Recipe::canonical)
          qk_canonical(s, H, c, z);
        else if (r == Recipe::hopper)
          hopper_bf16_gemm_f32(qt, s.kvb.data(), H, B, c, nullptr, z);
        else
          bf16_gemm_f32acc(qt, s.kvb.data(), H, B, c, Recipe::exact, z);
        for (int64_t h = 0; h < H; ++h) {
          float* zh = z + h * B;
          float mx = s.m[h];
          for (int j = 0; j < B; ++j) {
            zh[j] = valid[j] ? zh[j] * scale : kNegInf;
            mx = zh[j] > mx ? zh[j] : mx;
          }
          // A block before any valid entry leaves m at -inf: nothing to rescale, every p is 0
          // (the kernel never sees this: a list starts with the query's own window entry).
          const float alpha = mx == kNegInf ? 1.0f : pmath::exp(s.m[h] - mx);
          for (int j = 0; j < B; ++j) zh[j] = mx == kNegInf ? 0.0f : pmath::exp(zh[j] - mx);
          s.l[h] = std::fma(s.l[h], alpha, reduce_sum_f32(zh, B, 1, r));
          s.alpha[h] = alpha;
          if (r != Recipe::exact)
            for (int64_t d = 0; d < c; ++d) s.o[h * c + d] *= alpha;
          for (int j = 0; j < B; ++j) s.pb[h * B + j] = bf16_encode(zh[j]);
          s.m[h] = mx;
        }
        if (r == Recipe::canonical)
          pv_canonical(s, H, c, s.o.data());
        else if (r == Recipe::hopper)
          hopper_bf16_gemm_f32(s.pb.data(), s.kvtb.data(), H, c, B, s.o.data(), s.o.data());
        else
          pv_exact(s, H, c, s.o.data());
      }
      uint16_t* ot = out + t * H * c;
      for (int64_t h = 0; h < H; ++h) {
        const float l = s.l[h] + pmath::exp(sink[h] - s.m[h]);
        for (int64_t d = 0; d < c; ++d) ot[h * c + d] = bf16_encode(s.o[h * c + d] / l);
      }
    }
  }
  if (derotate) rope_apply(out, T * H, c, q_pos, H, *derotate, true);
}

}  // namespace v4
