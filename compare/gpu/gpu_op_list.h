// Every stem with GPU runners, one line each (compare/gpu/<stem>.cu defines gpu_ops_<stem>()).
#pragma once

#define V4_GPU_OP_STEMS(X) \
  X(cast)                  \
  X(pmath)                 \
  X(fp8_gemm_wgmma)
