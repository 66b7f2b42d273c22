// Attention-layer benchmark at real V4-Flash shapes (docs/attention_layer.md): d = 4096, H = 64, head dim
// 512, q LoRA 1024, 8 output groups of rank 1024, index heads 64 × 128, top-k 512, window 128.
//   bench_attention_layer [--tokens 512] [--decode 8] [--threads 1,2] [--types swa,csa,hca] [--recipe canonical]
// For each layer type and thread count: a prefill of --tokens tokens from position 0, then --decode decode
// steps; reports time per token, the share of the layer's wall time spent inside the GEMMs (reference/gemm.h
// calls, timed by the GEMM clock of reference/linear.h in the same run), the non-GEMM / GEMM ratio, and the
// time of each stage. Memory: the layer's weights, its caches (sized tokens + decode) and per-call buffers.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "reference/attention_layer.h"
#include "reference/linear.h"
#include "tests/support/attention_layer_fixture.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fx = v4::fixtures;

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string t; std::getline(ss, t, ',');)
    if (!t.empty()) out.push_back(t);
  return out;
}

double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

const char* kStage[6] = {"q_proj", "kv_proj", "index", "compress", "attention", "out_proj"};

}  // namespace

int main(int argc, char** argv) {
  int64_t tokens = 512, decode = 8;
  std::string threads_arg = "1,2", types_arg = "swa,csa,hca", recipe_arg = "canonical";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--tokens") tokens = std::stoll(v);
    else if (k == "--decode") decode = std::stoll(v);
    else if (k == "--threads") threads_arg = v;
    else if (k == "--types") types_arg = v;
    else if (k == "--recipe") recipe_arg = v;
    else {
      std::fprintf(stderr, "bench_attention_layer: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  const auto recipe = v4::recipe_parse(recipe_arg);
  if (!recipe) {
    std::fprintf(stderr, "bench_attention_layer: unknown recipe %s\n", recipe_arg.c_str());
    return 2;
  }
  std::printf("attention layer, V4-Flash shapes, %lld-token prefill + %lld decode steps, recipe %s\n",
              (long long)tokens, (long long)decode, recipe_arg.c_str());
  std::printf("%-4s %3s | %-10s %9s %9s %7s %6s | stage seconds (%s, %s, %s, %s, %s, %s)\n", "type", "thr", "phase",
              "ms/token", "total s", "gemm %", "ng/g", kStage[0], kStage[1], kStage[2], kStage[3], kStage[4], kStage[5]);
  v4::gemm_clock_enable(true);
  for (const std::string& type : split(types_arg)) {
    const int64_t ratio = type == "swa" ? 0 : type == "csa" ? 4 : 128;
    const v4::AttentionConfig cfg = v4::attention_config_flash(ratio);
    const auto t0 = Clock::now();
    const fx::LayerWeights L = fx::make_layer(cfg, 1000 + uint32_t(ratio));
    const int64_t N = tokens + decode;
    const auto x = fx::bf16_normal(size_t(N * cfg.d), 2000 + uint32_t(ratio));
    const fx::Table tab = fx::rope_tab(v4::rope_params_for_ratio(int(ratio)), N);
    std::printf("# %s: weights generated in %.1f s\n", type.c_str(), secs(t0, Clock::now()));
    for (const std::string& th : split(threads_arg)) {
      omp_set_num_threads(std::stoi(th));
      v4::AttentionState st = v4::attention_state_init(cfg, N);
      std::vector<uint16_t> y(size_t(N * cfg.d));
      v4::AttentionTrace tr;
      v4::gemm_clock_reset();
      auto a = Clock::now();
      v4::attention_prefill(cfg, L.view(), x.data(), tokens, tab.view(), *recipe, st, y.data(), &tr);
      const double pre = secs(a, Clock::now()), pre_gemm = v4::gemm_clock_seconds();
      double stages[6];
      std::memcpy(stages, tr.seconds, sizeof stages);
      auto row = [&](const char* phase, double total, double gemm, int64_t n, const double* st6) {
        std::printf("%-4s %3s | %-10s %9.2f %9.3f %6.1f%% %6.3f | %.3f %.3f %.3f %.3f %.3f %.3f\n", type.c_str(),
                    th.c_str(), phase, 1e3 * total / double(n), total, 100.0 * gemm / total, (total - gemm) / gemm,
                    st6[0], st6[1], st6[2], st6[3], st6[4], st6[5]);
      };
      row("prefill", pre, pre_gemm, tokens, stages);
      if (decode > 0) {
        double dstages[6] = {};
        v4::gemm_clock_reset();
        a = Clock::now();
        for (int64_t p = tokens; p < N; ++p) {
          v4::attention_decode(cfg, L.view(), x.data() + p * cfg.d, p, tab.view(), *recipe, st, y.data() + p * cfg.d, &tr);
          for (int i = 0; i < 6; ++i) dstages[i] += tr.seconds[i];
        }
        const double dec = secs(a, Clock::now());
        row("decode", dec, v4::gemm_clock_seconds(), decode, dstages);
      }
      std::fflush(stdout);
    }
  }
  return 0;
}
