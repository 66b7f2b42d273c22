// cast: launchers of the GPU format kernels (compare/gpu/cast.cu). Raw device pointers; no HDF5.
#pragma once
#include <cstdint>

namespace v4::gpu {

// Device buffers of n codes each: the encodings of float32 inputs with bit patterns base .. base+n-1.
struct CastCodes {
  uint16_t* bf16;
  uint8_t *e4m3_sat, *e4m3_nosat, *e5m2_sat, *e5m2_nosat, *e2m1, *ue8m0;
};
void cast_all(uint32_t base, uint32_t n, const CastCodes& out);

// Compares the shared definition with the hardware conversions for the same inputs:
// mismatches[0..2] (bf16, e4m3 satfinite, e5m2 satfinite) += count, first[k] = min mismatching input.
void cast_vs_hardware(uint32_t base, uint32_t n, unsigned long long* mismatches, uint32_t* first);

}  // namespace v4::gpu
