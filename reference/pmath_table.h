// The one list of the portable float32 math functions of reference/pmath.h. Everything that names
// them all (the op registry, tests/test_pmath.cpp, check/check_pmath.cpp, the GPU self-test and its
// kernel, scripts/check_pmath.sh) takes the list from here; a per-function column elsewhere is a switch
// over PmathId, so -Wswitch reports a function added here and missing there.
// Host and device (nvcc, C++17): the id enum and pmath_eval are V4_HD; kPmathTable holds host function
// pointers and is for host code only.
#pragma once
#include <string_view>

#include "reference/pmath.h"

// X(name, kind), in id order. kind STAGED: pmath::detail has name_special, name_fast and name_slow
// (docs/pmath.md "Evaluation scheme"); kind IEEE: one IEEE operation, no stages.
#define V4_PMATH_FUNCTIONS(X) \
  X(exp, STAGED)              \
  X(exp2, STAGED)             \
  X(log, STAGED)              \
  X(log1p, STAGED)            \
  X(expm1, STAGED)            \
  X(sigmoid, STAGED)          \
  X(silu, STAGED)             \
  X(softplus, STAGED)         \
  X(rsqrt, STAGED)            \
  X(sqrt, IEEE)               \
  X(sin, STAGED)              \
  X(cos, STAGED)

namespace v4 {

// docs/pmath.md documents twelve functions; the static_asserts below tie the list to that number.
inline constexpr int kPmathCount = 12;

enum class PmathId : int {
#define V4_PMATH_ID(f, kind) f,
  V4_PMATH_FUNCTIONS(V4_PMATH_ID)
#undef V4_PMATH_ID
};

struct PmathEntry {
  const char* name;
  float (*fn)(float);
  // The stages of pmath.h (null for IEEE functions), for the tools that measure each stage.
  bool (*special)(float, float*);
  double (*fast)(float);
  float (*slow)(float);
};

#define V4_PMATH_STAGES_STAGED(f) pmath::detail::f##_special, pmath::detail::f##_fast, pmath::detail::f##_slow
#define V4_PMATH_STAGES_IEEE(f) nullptr, nullptr, nullptr
#define V4_PMATH_ENTRY(f, kind) PmathEntry{#f, pmath::f, V4_PMATH_STAGES_##kind(f)},
inline constexpr PmathEntry kPmathTable[] = {V4_PMATH_FUNCTIONS(V4_PMATH_ENTRY)};
#undef V4_PMATH_ENTRY
#undef V4_PMATH_STAGES_IEEE
#undef V4_PMATH_STAGES_STAGED

static_assert(sizeof kPmathTable / sizeof kPmathTable[0] == kPmathCount, "kPmathTable must list kPmathCount functions");
#define V4_PMATH_ONE(f, kind) +1
static_assert(0 V4_PMATH_FUNCTIONS(V4_PMATH_ONE) == kPmathCount, "V4_PMATH_FUNCTIONS must list kPmathCount functions");
#undef V4_PMATH_ONE

// f(x) for function id (a PmathId), host or device: one switch generated from the list. An id outside
// [0, kPmathCount) gives the canonical NaN.
V4_HD float pmath_eval(int id, float x) {
  switch (id) {
#define V4_PMATH_CASE(f, kind) \
  case int(PmathId::f):        \
    return pmath::f(x);
    V4_PMATH_FUNCTIONS(V4_PMATH_CASE)
#undef V4_PMATH_CASE
  }
  return pmath::detail::canonical_nan();
}

// The id of a function name, or -1 (host).
constexpr int pmath_id(std::string_view name) {
  for (int i = 0; i < kPmathCount; ++i)
    if (name == kPmathTable[i].name) return i;
  return -1;
}

}  // namespace v4
