// act_quant: the GPU runner of act_quant (reference/act_quant.h): e4m3 codes q, ue8m0 block scales s and
// the simulation form y of bf16 x [.., n], block 128 or 64 (the `block` input), through the shared block
// walk (quant_common.cuh) with the CPU's own element functions (act_quant_element, act_quant_sim_element).
#include <stdexcept>
#include <string>

#include "compare/gpu/quant_common.cuh"
#include "reference/act_quant.h"

namespace v4::gpu {

namespace {

struct E4m3Rule {
  static constexpr float kAmaxFloor = kActQuantAmaxFloor, kInvQmax = kFp8InvQmax;
  __device__ static void set_code(uint8_t* q, long long e, float x, float s) { q[e] = act_quant_element(x, s); }
  __device__ static uint16_t sim(float x, float s) { return act_quant_sim_element(x, s); }
};

GpuOutputs run_act_quant(const GpuInputs& in, Recipe) {
  const Tensor& x = gpu_input(in, "x", Fmt::bf16);
  const Tensor& bt = gpu_input(in, "block", Fmt::i32);
  const int block = bt.numel() == 1 ? bt.as<int32_t>()[0] : 0;
  if (block != 128 && block != 64) throw std::invalid_argument("act_quant: input /block must be a scalar 128 or 64");
  return run_block_quant<E4m3Rule>("act_quant", x, block, Fmt::e4m3fn);
}

}  // namespace

std::vector<GpuOp> gpu_ops_act_quant() {
  return {{"act_quant", run_act_quant, [](Recipe) { return std::string("block_quant_kernel<e4m3>"); }}};
}

}  // namespace v4::gpu
