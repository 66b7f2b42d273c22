// cast: the check that only the GPU can make — the shared format definitions (reference/formats.h)
// against the hardware conversion instructions (compare/gpu/cast.cu). The cast ops themselves run
// through the GPU runner registry (gpu_op.h).
#pragma once
#include <cstdint>

namespace v4::gpu {

// For the float32 inputs with bit patterns base .. base+n-1: mismatches[k] (k = bf16, e4m3 satfinite,
// e5m2 satfinite) += count of inputs where cvt.rn differs from the shared definition; first[k] = the
// smallest such input. Host pointers; both are accumulated into.
void cast_vs_hardware(uint32_t base, uint32_t n, unsigned long long mismatches[3], uint32_t first[3]);

}  // namespace v4::gpu
