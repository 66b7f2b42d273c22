// Recipe forensics (forensics.h): the variant family and its search.
#include "compare/harness/forensics.h"

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "compare/harness/op_exec.h"
#include "reference/formats.h"
#include "reference/gemm.h"

namespace v4::harness {

namespace {

using Acc = GemmVariant::Acc;
using Reduce = GemmVariant::Reduce;

constexpr int64_t kFp8Block = 128;  // one ue8m0 scale per 128 K (reference/gemm.h)
constexpr int64_t kMaxSplits = 16;

const Tensor& input(const Inputs& in, const std::string& name, Fmt fmt) {
  const auto it = in.find(name);
  if (it == in.end() || it->second->fmt != fmt || it->second->shape.size() != 2)
    throw std::invalid_argument(std::string("forensics: input ") + name + " missing or not a " + fmt_name(fmt) + " matrix");
  return *it->second;
}

// Columns [k0, k1) of a row-major [rows, K] matrix of stored elements T, densely packed.
template <class T>
std::vector<T> slice(const Tensor& x, int64_t k0, int64_t k1) {
  const int64_t rows = x.shape[0], K = x.shape[1];
  std::vector<T> out(size_t(rows * (k1 - k0)));
  const T* p = x.as<T>();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = k0; k < k1; ++k) out[size_t(r * (k1 - k0) + k - k0)] = p[r * K + k];
  return out;
}

float reduce(const std::vector<float>& parts, Reduce how) {
  if (how == Reduce::reversed) {
    float acc = parts.back();
    for (size_t i = parts.size() - 1; i-- > 0;) acc = acc + parts[i];
    return acc;
  }
  if (how == Reduce::tree) {
    std::vector<float> v = parts;
    while (v.size() > 1) {
      std::vector<float> next;
      for (size_t i = 0; i + 1 < v.size(); i += 2) next.push_back(v[i] + v[i + 1]);
      if (v.size() % 2) next.push_back(v.back());
      v.swap(next);
    }
    return v[0];
  }
  float acc = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) acc = acc + parts[i];
  return acc;
}

// bf16_gemm / f32_gemm: the fp32 partial of each split, [split][m * N + n].
std::vector<std::vector<float>> dot_partials(bool bf, const Tensor& a, const Tensor& b, const std::vector<int64_t>& bounds,
                                             Acc acc) {
  const int64_t M = a.shape[0], N = b.shape[0];
  std::vector<std::vector<float>> parts;
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    const int64_t k0 = bounds[s], L = bounds[s + 1] - k0;
    std::vector<float> p(size_t(M * N));
    const Recipe r = acc == Acc::exact_f32 ? Recipe::exact : Recipe::canonical;
    if (bf) {
      const auto as = slice<uint16_t>(a, k0, k0 + L), bs = slice<uint16_t>(b, k0, k0 + L);
      if (acc == Acc::hopper_chain)
        hopper_bf16_gemm_f32(as.data(), bs.data(), M, N, L, nullptr, p.data());
      else
        bf16_gemm_f32acc(as.data(), bs.data(), M, N, L, r, p.data());
    } else {
      const auto as = slice<float>(a, k0, k0 + L), bs = slice<float>(b, k0, k0 + L);
      f32_gemm(as.data(), bs.data(), M, N, L, r, p.data());
    }
    parts.push_back(std::move(p));
  }
  return parts;
}

// fp8_gemm: the per-group partials d[g][m * N + n] of every promote_every-wide K group (unscaled).
std::vector<std::vector<float>> fp8_group_partials(const Tensor& a, const Tensor& b, int64_t P, Acc acc) {
  const int64_t M = a.shape[0], N = b.shape[0], K = a.shape[1];
  std::vector<std::vector<float>> d;
  const std::vector<uint8_t> ones_a(size_t(M), 127), ones_b(size_t((N + kFp8Block - 1) / kFp8Block), 127);  // ue8m0 1.0
  for (int64_t k0 = 0; k0 < K; k0 += P) {
    const auto as = slice<uint8_t>(a, k0, k0 + P), bs = slice<uint8_t>(b, k0, k0 + P);
    std::vector<float> p(size_t(M * N));
    if (acc == Acc::hopper_chain)
      hopper_fp8_gemm_f32(as.data(), bs.data(), M, N, P, 0, nullptr, p.data());
    else  // the exact 128-block sum rounded once to fp32: canonical with unit scales
      fp8_gemm_f32acc(as.data(), ones_a.data(), bs.data(), ones_b.data(), M, N, P, Recipe::canonical, p.data());
    d.push_back(std::move(p));
  }
  return d;
}

struct Fp8Inputs {
  const Tensor &a, &as, &b, &bs;
};

// fp8_gemm: each split's fp32 accumulator, promoting its groups in ascending order with the block scales.
std::vector<std::vector<float>> fp8_partials(const Fp8Inputs& x, const std::vector<std::vector<float>>& d,
                                             const std::vector<int64_t>& bounds, const GemmVariant& v) {
  const int64_t M = x.a.shape[0], N = x.b.shape[0], nkb = x.as.shape[1];
  const uint8_t *sa = x.as.as<uint8_t>(), *sb = x.bs.as<uint8_t>();
  std::vector<std::vector<float>> parts;
  for (size_t s = 0; s + 1 < bounds.size(); ++s) {
    std::vector<float> acc(size_t(M * N), 0.0f);
    for (int64_t k0 = bounds[s]; k0 < bounds[s + 1]; k0 += v.promote_every) {
      const int64_t kb = k0 / kFp8Block;
      const std::vector<float>& dg = d[size_t(k0 / v.promote_every)];
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const float scale = ue8m0_decode(sa[m * nkb + kb]) * ue8m0_decode(sb[(n / kFp8Block) * nkb + kb]);
          float& c = acc[size_t(m * N + n)];
          const float dv = dg[size_t(m * N + n)];
          if (v.promote_fma) {
            c = std::fma(dv, scale, c);
          } else {
            const float t = dv * scale;
            c = c + t;
          }
        }
    }
    parts.push_back(std::move(acc));
  }
  return parts;
}

std::set<int64_t> split_counts(int64_t K, int64_t granule) {
  std::set<int64_t> s;
  for (int64_t k = 1; k <= kMaxSplits; ++k) s.insert(k);
  for (int64_t j = 1; j * kFp8Block <= K; ++j)
    if (K % (kFp8Block * j) == 0) s.insert(K / (kFp8Block * j));
  std::set<int64_t> ok;
  for (int64_t k : s)
    if (!split_bounds(K, k, granule).empty()) ok.insert(k);
  return ok;
}

Tensor to_output(const std::string& op, int64_t M, int64_t N, const std::vector<std::vector<float>>& parts, Reduce how) {
  const bool f32 = op == "f32_gemm";
  Tensor c = Tensor::make(f32 ? Fmt::f32 : Fmt::bf16, {M, N});
  std::vector<float> e(parts.size());
  for (int64_t i = 0; i < M * N; ++i) {
    for (size_t s = 0; s < parts.size(); ++s) e[s] = parts[s][size_t(i)];
    const float v = reduce(e, how);
    if (f32)
      c.as<float>()[i] = v;
    else
      c.as<uint16_t>()[i] = bf16_encode(v);
  }
  return c;
}

int64_t granule_of(const std::string& op) { return op == "fp8_gemm" ? kFp8Block : 16; }

}  // namespace

std::vector<int64_t> split_bounds(int64_t K, int64_t splits, int64_t granule) {
  if (splits < 1 || K <= 0) return splits == 1 ? std::vector<int64_t>{0, K} : std::vector<int64_t>{};
  const int64_t len = ((K + splits - 1) / splits + granule - 1) / granule * granule;
  std::vector<int64_t> b{0};
  for (int64_t s = 0; s < splits; ++s) {
    if (b.back() >= K) return {};
    b.push_back(std::min(K, b.back() + len));
  }
  return b.back() == K ? b : std::vector<int64_t>{};
}

bool forensics_supports(const std::string& op) { return op == "bf16_gemm" || op == "f32_gemm" || op == "fp8_gemm"; }

std::vector<GemmVariant> gemm_variants(const std::string& op, int64_t K) {
  std::vector<GemmVariant> v;
  const bool fp8 = op == "fp8_gemm";
  for (int64_t s : split_counts(K, granule_of(op))) {
    std::vector<Reduce> reduces{Reduce::in_order};
    if (s > 2) reduces.push_back(Reduce::reversed);
    if (s > 3) reduces.push_back(Reduce::tree);
    // The named recipes first (canonical, hopper, exact when K is not split), then the rest.
    std::vector<Acc> accs{Acc::fma_chain};
    if (op != "f32_gemm") accs.push_back(Acc::hopper_chain);
    if (s == 1) accs.push_back(Acc::exact_direct);
    if (!fp8) accs.push_back(Acc::exact_f32);
    for (Acc a : accs)
      for (int64_t P : fp8 && a == Acc::hopper_chain ? std::vector<int64_t>{128, 64, 32} : std::vector<int64_t>{128})
        for (bool fma : fp8 && a != Acc::exact_direct ? std::vector<bool>{true, false} : std::vector<bool>{true})
          for (Reduce r : a == Acc::exact_direct ? std::vector<Reduce>{Reduce::in_order} : reduces) v.push_back({s, r, a, P, fma});
  }
  return v;
}

namespace {

// The fp32 partials of every split of a variant (before the reduction), [split][m * N + n].
std::vector<std::vector<float>> variant_partials(const std::string& op, const Inputs& in, const GemmVariant& v) {
  const bool fp8 = op == "fp8_gemm", bf = op == "bf16_gemm";
  const Fmt f = fp8 ? Fmt::e4m3fn : bf ? Fmt::bf16 : Fmt::f32;
  const Tensor &a = input(in, "a", f), &b = input(in, "b", f);
  const std::vector<int64_t> bounds = split_bounds(a.shape[1], v.splits, granule_of(op));
  if (bounds.empty()) throw std::invalid_argument("forensics: " + std::to_string(v.splits) + " splits do not fit K = " + std::to_string(a.shape[1]));
  if (!fp8) return dot_partials(bf, a, b, bounds, v.acc);
  const Fp8Inputs x{a, input(in, "a_scale", Fmt::ue8m0), b, input(in, "b_scale", Fmt::ue8m0)};
  return fp8_partials(x, fp8_group_partials(a, b, v.promote_every, v.acc), bounds, v);
}

// Variants that differ only in the reduction share their partials.
struct PartialsKey {
  int64_t splits, promote_every;
  Acc acc;
  bool promote_fma;
  auto operator<=>(const PartialsKey&) const = default;
};

}  // namespace

Tensor gemm_variant_output(const std::string& op, const Inputs& in, const GemmVariant& v) {
  if (!forensics_supports(op)) throw std::invalid_argument("forensics: no variant family for " + op);
  if (v.acc == Acc::exact_direct) return run_cpu_op(op, in, Recipe::exact)[0].second;
  const Tensor& a = *in.at("a");
  return to_output(op, a.shape[0], in.at("b")->shape[0], variant_partials(op, in, v), v.reduce);
}

ForensicsResult recipe_forensics(const std::string& op, const Inputs& in, const Tensor& c) {
  ForensicsResult res;
  res.op = op;
  const auto ia = in.find("a"), ib = in.find("b");
  if (!forensics_supports(op) || ia == in.end() || ib == in.end())
    throw std::invalid_argument("forensics: no variant family for " + op + " or inputs a, b missing");
  res.M = ia->second->shape.at(0), res.K = ia->second->shape.at(1), res.N = ib->second->shape.at(0);
  res.elements = c.numel();
  res.best_equal = -1;
  std::map<PartialsKey, std::vector<std::vector<float>>> cache;
  for (const GemmVariant& v : gemm_variants(op, res.K)) {
    ++res.tried;
    Tensor out;
    if (v.acc == Acc::exact_direct) {
      out = gemm_variant_output(op, in, v);
    } else {
      const PartialsKey key{v.splits, v.promote_every, v.acc, v.promote_fma};
      auto it = cache.find(key);
      if (it == cache.end()) it = cache.emplace(key, variant_partials(op, in, v)).first;
      out = to_output(op, res.M, res.N, it->second, v.reduce);
    }
    const int64_t equal = res.elements - count_differ(out, c);
    if (equal > res.best_equal) res.best = v, res.best_equal = equal;
    if (equal == res.elements) {
      res.match = v;
      break;
    }
  }
  return res;
}

}  // namespace v4::harness
