// Every stem with GPU runners, one line each (compare/gpu/<stem>.cu defines gpu_ops_<stem>()).
#pragma once

#define V4_GPU_OP_STEMS(X) \
  X(cast)                  \
  X(pmath)                 \
  X(act_quant)             \
  X(fp4_act_quant)         \
  X(weight_dequant)        \
  X(hadamard)              \
  X(gemm)
