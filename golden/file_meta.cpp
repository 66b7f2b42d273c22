// Root metadata: see file_meta.h. The order of set_root_attr calls is fixed, so files stay byte-identical.
#include "golden/file_meta.h"

#include <algorithm>

#include "v4oracle_version.h"

namespace v4::golden {

void write_file_meta(H5Writer& w, const std::string& kind, const std::string& name) {
  w.set_root_attr(kAttrMagic, kMagic);
  w.set_root_attr(kAttrSchemaVersion, kSchemaVersion);
  w.set_root_attr(kAttrGeneratorVersion, V4ORACLE_VERSION);
  w.set_root_attr(kAttrGeneratorCommit, V4ORACLE_GIT_COMMIT);
  w.set_root_attr(kAttrKind, kind);
  w.set_root_attr(kind, name);
}

void write_golden_meta(H5Writer& w, const GoldenMeta& m) {
  write_file_meta(w, m.kind, m.name);
  w.set_root_attr(kAttrConfig, m.config_json);
  w.set_root_attr(kAttrSeed, m.seed);
  w.set_root_attr(kAttrRecipe, m.recipe);
  w.set_root_attr(kAttrReleaseSwitches, m.release_switches_json);
}

FileMeta check_file_meta(const H5Reader& r) {
  const std::string hint = " (regenerate it with a v4oracle of schema version " + std::to_string(kSchemaVersion) +
                           ", or see docs/golden-schema.md for what a candidate file must carry)";
  const std::optional<std::string> magic = r.root_str(kAttrMagic);
  if (!magic) throw InputError(r.path(), "", "no root attribute 'magic' = \"v4oracle\"; not a v4oracle file" + hint);
  if (*magic != kMagic)
    throw InputError(r.path(), "", "root attribute 'magic' is \"" + *magic + "\", expected \"v4oracle\"" + hint);
  const std::optional<int64_t> version = r.root_i64(kAttrSchemaVersion);
  if (!version) throw InputError(r.path(), "", "no root attribute 'schema_version'" + hint);
  if (*version != kSchemaVersion)
    throw InputError(r.path(), "", "schema_version " + std::to_string(*version) + " is not supported (this v4oracle reads " +
                                       std::to_string(kSchemaVersion) + ")" + hint);
  FileMeta m;
  m.schema_version = *version;
  m.kind = r.root_str(kAttrKind).value_or("");
  if (!m.kind.empty() && m.kind != kAttrKind) {
    // The attribute named after the kind may be a string (op name) or absent.
    const std::vector<std::string> names = r.root_attr_names();
    for (const std::string& n : names)
      if (n == m.kind) m.name = r.root_str(m.kind).value_or("");
  }
  m.generator_version = r.root_str(kAttrGeneratorVersion).value_or("");
  m.generator_commit = r.root_str(kAttrGeneratorCommit).value_or("");
  m.config_json = r.root_str(kAttrConfig);
  m.recipe = r.root_str(kAttrRecipe);
  m.release_switches_json = r.root_str(kAttrReleaseSwitches);
  m.seed = r.root_i64(kAttrSeed);
  return m;
}

FileMeta check_candidate_meta(const H5Reader& r) {
  const std::vector<std::string> names = r.root_attr_names();
  const auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  if (has(kAttrMagic) || has(kAttrSchemaVersion)) return check_file_meta(r);
  FileMeta m;
  m.kind = r.root_str(kAttrKind).value_or("");
  if (!m.kind.empty() && has(m.kind.c_str()) && m.kind != kAttrKind) m.name = r.root_str(m.kind).value_or("");
  m.generator_version = r.root_str(kAttrGeneratorVersion).value_or("");
  m.generator_commit = r.root_str(kAttrGeneratorCommit).value_or("");
  return m;
}

}  // namespace v4::golden
