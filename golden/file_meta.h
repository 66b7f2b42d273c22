// Root metadata of every file this project writes or reads (design.md §5, docs/golden-schema.md): magic,
// schema version, generator version and git commit, what produced the file (kind + name), and for
// goldens the config (JSON), seed, recipe and release switches (JSON). Readers call check_file_meta
// first: a wrong magic or schema version is an InputError (exit 2) naming the file and the fix.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "golden/tensor_io.h"

namespace v4::golden {

inline constexpr const char* kMagic = "v4oracle";
inline constexpr int64_t kSchemaVersion = 1;

// Root attribute names (one place, so writer, reader, docs and the Python example agree).
inline constexpr const char* kAttrMagic = "magic";
inline constexpr const char* kAttrSchemaVersion = "schema_version";
inline constexpr const char* kAttrGeneratorVersion = "generator_version";
inline constexpr const char* kAttrGeneratorCommit = "generator_commit";
inline constexpr const char* kAttrKind = "kind";  // "golden", "op", "cast", "candidate", ...
inline constexpr const char* kAttrConfig = "config";
inline constexpr const char* kAttrSeed = "seed";
// `v4oracle op` files: the op's output dataset paths, comma-separated; every other dataset is an input.
inline constexpr const char* kAttrOutputs = "outputs";
inline constexpr const char* kAttrRecipe = "recipe";
inline constexpr const char* kAttrReleaseSwitches = "release_switches";

// Writes magic, schema_version, generator_version, generator_commit, kind, and the attribute named
// `kind` holding `name` (e.g. kind = "op", op = "act_quant").
void write_file_meta(H5Writer& w, const std::string& kind, const std::string& name);

// What a golden file records about how it was produced. Same (config, seed, recipe, generator
// version) => byte-identical tensor data.
struct GoldenMeta {
  std::string kind = "golden";
  std::string name;              // value of the root attribute named `kind` (e.g. the config name)
  std::string config_json;       // the full resolved config as JSON ("{}" when not applicable)
  int64_t seed = 0;
  std::string recipe = "canonical";
  std::string release_switches_json = "{}";  // e.g. {"shared_expert_clamp":true,"kv_fp8_sim":true}
};
void write_golden_meta(H5Writer& w, const GoldenMeta& m);

// Root metadata as read back; optional fields are absent in files that do not carry them (op files
// have no config; a candidate dumped from PyTorch needs only magic and schema_version).
struct FileMeta {
  int64_t schema_version = 0;
  std::string kind;  // empty when absent
  std::string name;  // value of the attribute named `kind`, empty when absent
  std::string generator_version, generator_commit;
  std::optional<std::string> config_json, recipe, release_switches_json;
  std::optional<int64_t> seed;
};

// Validates and returns the root metadata. InputError (one line, naming the file) when magic is absent
// or wrong, schema_version is absent, not an integer, or not kSchemaVersion, or a known attribute has
// the wrong type.
FileMeta check_file_meta(const H5Reader& r);
// A candidate's metadata: check_file_meta, except that a file with neither `magic` nor
// `schema_version` (a plain h5py dump) is accepted, with schema_version 0 and whatever optional
// attributes it has. A file carrying either one is checked in full.
FileMeta check_candidate_meta(const H5Reader& r);

}  // namespace v4::golden
