// V4-Flash MoE layer at real scale (docs/moe_layer.md "Benchmark"): 256 FP4 experts (d = 4096, I = 2048),
// top-6 + the FP8 shared expert, every weight generated on demand by the counter-based generator
// (reference/weights.h), one expert in memory at a time.
//   bench_moe_layer [--tokens 512] [--threads 1,2] [--experts 256] [--d 4096] [--inter 2048] [--seed S]
//                   [--hash 0|1] [--quant 0|1] [--quant-error 0|1]
// Per thread count, from one run: time per token; the ratio of the layer time to the time its routed-expert
// GEMMs alone take in the same run (fp4_gemm calls inside the experts); the weight generation's share;
// the other parts; peak resident memory. The outputs of all thread counts are compared bit for bit.
// --quant-error 1 also runs the layer with quantization simulation off (bf16 dequantized weights, bf16
// GEMMs) and reports how far the release's quantized output is from it: the error quantization adds.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "reference/blocks.h"
#include "reference/moe_layer.h"
#include "reference/weights.h"

using namespace v4;

using v4::bench::parse_list;
using v4::bench::peak_rss_mib;

int main(int argc, char** argv) {
  int64_t T = 512, E = 256, d = 4096, I = 2048;
  uint64_t seed = 20260501;
  std::vector<int> threads = {1, 2};
  bool hash = false, quant = true, quant_error = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--tokens") T = std::atoll(v.c_str());
    else if (a == "--threads") threads = parse_list(v);
    else if (a == "--experts") E = std::atoll(v.c_str());
    else if (a == "--d") d = std::atoll(v.c_str());
    else if (a == "--inter") I = std::atoll(v.c_str());
    else if (a == "--seed") seed = std::strtoull(v.c_str(), nullptr, 10);
    else if (a == "--hash") hash = v == "1";
    else if (a == "--quant") quant = v == "1";
    else if (a == "--quant-error") quant_error = v == "1";
    else {
      std::fprintf(stderr, "bench_moe_layer: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  const int32_t layer = hash ? 1 : 3;  // a hash layer (0-2) or a score-routed one
  MoeLayerConfig cfg;
  cfg.d = d;
  cfg.I = I;
  cfg.E = E;
  cfg.quant = quant;

  // Inputs: x = ffn_norm output (normal, sd 1.15), token ids, gate, shared expert — all generated.
  const auto g0 = std::chrono::steady_clock::now();
  std::vector<uint16_t> x(T * d), gate_w(E * d);
  weights_bf16({seed, layer, -1}, "bench.x", T * d, 0, x.data());
  const WeightId lid{seed, layer, -1};
  weights_bf16(lid, "ffn.gate.weight", E * d, weight_normal_exp(d), gate_w.data());
  std::vector<float> bias(E);
  weights_f32(lid, "ffn.gate.bias", E, -5, bias.data());
  const int64_t V = 129280;
  std::vector<int32_t> ids(T), table;
  for (int64_t t = 0; t < T; ++t) ids[t] = int32_t(rng_u64(seed, rng_stream_id("bench.ids"), uint64_t(t)) % V);
  if (hash) {
    table.resize(V * cfg.k);
    weights_tid2eid(lid, V, E, cfg.k, table.data());
  }
  std::vector<uint8_t> h1(I * d), h3(I * d), h2(d * I), hs1(ceil_div(I, 128) * (d / 128)), hs3(hs1.size()),
      hs2(ceil_div(d, 128) * (I / 128));
  weights_fp8(lid, "ffn.shared_experts.w1", I, d, h1.data(), hs1.data());
  weights_fp8(lid, "ffn.shared_experts.w3", I, d, h3.data(), hs3.data());
  weights_fp8(lid, "ffn.shared_experts.w2", d, I, h2.data(), hs2.data());
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - g0).count();
  const ExpertFp8Weights shared{h1.data(), hs1.data(), h3.data(), hs3.data(), h2.data(), hs2.data()};
  MoeRouting routing;
  routing.gate_w = gate_w.data();
  routing.token_ids = ids.data();
  if (hash) {
    routing.tid2eid = table.data();
    routing.vocab = V;
  } else {
    routing.gate_bias = bias.data();
  }

  std::printf("V4 MoE layer: T=%lld d=%lld I=%lld E=%lld top-%d + shared, %s routing, quant=%d, recipe canonical\n",
              (long long)T, (long long)d, (long long)I, (long long)E, cfg.k, hash ? "hash" : "score", int(quant));
  std::printf("setup (x, gate, shared FP8 weights generated once): %.2f s\n", setup_s);
  std::printf("| threads | ms/token | layer s | routed GEMM s | layer/routed GEMM | weight gen s (share) | "
              "routed other s | shared s | route s | combine s | experts used | max tokens/expert | peak RSS MiB |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::vector<uint16_t> first;
  bool identical = true;
  for (int th : threads) {
    omp_set_num_threads(th);
    GeneratedExperts gen(seed, layer, d, I);
    std::vector<uint16_t> out(T * d);
    MoeStats st;
    moe_layer(x.data(), T, cfg, routing, std::ref(gen), shared, Recipe::canonical, out.data(), &st);
    if (first.empty())
      first = out;
    else
      identical &= std::memcmp(first.data(), out.data(), out.size() * 2) == 0;
    std::printf("| %d | %.2f | %.2f | %.2f | %.3f | %.2f (%.1f%%) | %.2f | %.2f | %.3f | %.3f | %lld | %lld | %.0f |\n", th,
                1e3 * st.total / double(T), st.total, st.routed_gemm, st.total / st.routed_gemm, st.weights,
                100 * st.weights / st.total, st.routed - st.routed_gemm, st.shared, st.route, st.combine,
                (long long)st.experts_used, (long long)st.max_tokens_per_expert, peak_rss_mib());
    std::fflush(stdout);
  }
  std::printf("outputs bit-identical across thread counts: %s\n", identical ? "yes" : "NO");
  if (quant_error && quant) {
    MoeLayerConfig off = cfg;
    off.quant = false;
    GeneratedExperts gen(seed, layer, d, I);
    std::vector<uint16_t> ref(T * d);
    MoeStats st;
    moe_layer(x.data(), T, off, routing, std::ref(gen), shared, Recipe::canonical, ref.data(), &st);
    double num = 0, den = 0, worst = 0;
    for (int64_t i = 0; i < T * d; ++i) {
      const double a = bf16_decode(first[i]), b = bf16_decode(ref[i]);
      num += (a - b) * (a - b);
      den += b * b;
      worst = std::max(worst, std::abs(a - b));
    }
    std::printf("quantization off (bf16 weights and GEMMs): %.2f s; quantized vs unquantized output: relative RMS "
                "error %.4f, max abs error %.4g (output RMS %.4f)\n",
                st.total, std::sqrt(num / den), worst, std::sqrt(den / double(T * d)));
  }
  std::printf("all %lld experts' FP4 weights at once would take %.0f MiB; one expert takes %.1f MiB\n", (long long)E,
              double(E) * 3 * (I * d / 2 + I * d / 32) / 1048576.0, 3.0 * (I * d / 2 + I * d / 32) / 1048576.0);
  return identical ? 0 : 1;
}
