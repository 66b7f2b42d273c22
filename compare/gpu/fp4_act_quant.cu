// fp4_act_quant: the GPU runner of fp4_act_quant (reference/fp4_act_quant.h): packed e2m1 codes q, ue8m0
// block-32 scales s and the simulation form y of bf16 x [.., n], through the shared block walk
// (quant_common.cuh) with the CPU's own element functions (fp4_act_quant_element, fp4_act_quant_sim_element,
// packed by fp4_e2m1_set).
#include <string>

#include "compare/gpu/quant_common.cuh"
#include "reference/fp4_act_quant.h"

namespace v4::gpu {

namespace {

// n is a multiple of 32, so the packed rows are one packed row of rows · n elements and a block of 32
// owns its 16 bytes of q: no two threads write one byte.
struct E2m1Rule {
  static constexpr float kAmaxFloor = kFp4AmaxFloor, kInvQmax = kFp4InvQmax;
  __device__ static void set_code(uint8_t* q, long long e, float x, float s) {
    fp4_e2m1_set(q, e, fp4_act_quant_element(x, s));
  }
  __device__ static uint16_t sim(float x, float s) { return fp4_act_quant_sim_element(x, s); }
};

GpuOutputs run_fp4_act_quant(const GpuInputs& in, Recipe) {
  return run_block_quant<E2m1Rule>("fp4_act_quant", gpu_input(in, "x", Fmt::bf16), kFp4Block, Fmt::e2m1x2);
}

}  // namespace

std::vector<GpuOp> gpu_ops_fp4_act_quant() {
  return {{"fp4_act_quant", run_fp4_act_quant, [](Recipe) { return std::string("block_quant_kernel<e2m1>"); }}};
}

}  // namespace v4::gpu
