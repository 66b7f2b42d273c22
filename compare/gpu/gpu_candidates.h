// The GPU candidates of gpu-check (compare/harness/candidate.h): "builtin" (the runners of gpu_op.h, one
// per golden op, on the shared numerics headers) and "cublaslt[:VARIANT]" (cublaslt_ops.h). Registered by
// a static initialiser of gpu_candidates.cpp (library v4_gpu_candidates, linked whole into v4oracle in
// builds with -DV4ORACLE_CUDA=ON), which also installs device memory for device plug-ins.
#pragma once

namespace v4::gpu {

void register_gpu_candidates();  // idempotent only once: the static initialiser calls it

}  // namespace v4::gpu
