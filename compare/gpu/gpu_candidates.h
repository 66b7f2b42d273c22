// The GPU candidates of gpu-check (compare/harness/candidate.h): "builtin" (the runners of gpu_op.h, one
// per golden op, on the shared numerics headers) and "cublaslt[:VARIANT]" (cublaslt_ops.h). Registered by
// the CLI in builds with -DV4ORACLE_CUDA=ON; also provides device memory to device plug-ins.
#pragma once

namespace v4::gpu {

void register_gpu_candidates();

}  // namespace v4::gpu
