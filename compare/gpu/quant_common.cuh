// The block walk of the quantizers' runners (act_quant.cu, fp4_act_quant.cu), as reference/quant_common.h
// is the CPU's: one thread per block computes the block's scale with the CPU's quant_block_scale, then
// every element through the quantizer's rule; plus the runner around it (checks, the three outputs).
#pragma once
#include <utility>
#include <vector>

#include "compare/gpu/device.cuh"
#include "compare/gpu/gpu_op.h"
#include "reference/quant_common.h"

namespace v4::gpu {

// Rule: kAmaxFloor, kInvQmax; set_code(q, e, x, s) stores element e's code; sim(x, s) its simulation value.
// x, y [blocks · block] bf16 codes, q the codes (layout per Rule), s [blocks] ue8m0 codes; block b covers
// elements b·block .. b·block + block - 1 (rows are whole blocks, so row-major blocks are the CPU's order).
template <class Rule>
__global__ void block_quant_kernel(const uint16_t* x, long long blocks, int block, uint8_t* q, uint8_t* s, uint16_t* y) {
  const long long b = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= blocks) return;
  const long long at = b * block;
  const uint8_t sc = quant_block_scale(x + at, block, Rule::kAmaxFloor, Rule::kInvQmax);
  const float sv = ue8m0_decode(sc);
  s[b] = sc;
  for (int i = 0; i < block; ++i) {
    const float xv = bf16_decode(x[at + i]);
    Rule::set_code(q, at + i, xv, sv);
    y[at + i] = Rule::sim(xv, sv);
  }
}

// x [.., n] bf16 -> q (format qfmt, x's shape), s (ue8m0 [.., n/block]), y (bf16), named as the CPU op
// names them. Checks as the CPU walk (quant_check_shape: n a positive multiple of block).
template <class Rule>
GpuOutputs run_block_quant(const char* op, const Tensor& x, int block, Fmt qfmt) {
  const auto [rows, n] = gpu_rows_last("x", x);
  quant_check_shape(op, rows, n, block);
  std::vector<int64_t> sshape = x.shape;
  sshape.back() = n / block;
  Tensor q = Tensor::make(qfmt, x.shape), s = Tensor::make(Fmt::ue8m0, sshape), y = Tensor::make(Fmt::bf16, x.shape);
  DeviceBuffer dx(x.data.data(), x.data.size()), dq(q.data.size()), ds(s.data.size()), dy(y.data.size());
  const long long blocks = rows * (n / block);
  if (blocks > 0) {
    block_quant_kernel<Rule><<<grid_for(blocks), 256, 0, gpu_stream()>>>(dx.as<uint16_t>(), blocks, block, dq.as<uint8_t>(),
                                                                         ds.as<uint8_t>(), dy.as<uint16_t>());
    cuda_check_launch(op);
  }
  dq.download(q.data.data());
  ds.download(s.data.data());
  dy.download(y.data.data());
  GpuOutputs out;
  out.emplace_back("q", std::move(q));
  out.emplace_back("s", std::move(s));
  out.emplace_back("y", std::move(y));
  return out;
}

}  // namespace v4::gpu
