// libFuzzer target: compare's text parsers: the policy file (compare/policy.h Policy::load_file), the
// --map name-map file (compare/compare.h load_name_map) and budget_parse. A malformed file must be an
// InputError and a malformed budget std::invalid_argument; anything else (another exception, a crash, a
// sanitizer report) is a finding. docs/fuzzing.md.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "compare/compare.h"
#include "compare/policy.h"
#include "golden/input_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static int fd = ::memfd_create("v4oracle-fuzz-policy", 0);
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  try {
    v4::compare::Policy p;
    p.load_file(path);
    for (const char* ds : {"/a", "/layers/3/moe_gate/scores", "/x/y/z"}) (void)p.match(ds);
  } catch (const v4::golden::InputError&) {
  }
  try {
    (void)v4::compare::load_name_map(path);
  } catch (const v4::golden::InputError&) {
  }
  try {
    (void)v4::compare::budget_parse(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
