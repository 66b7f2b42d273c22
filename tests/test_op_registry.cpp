// The op registry, walked rather than listed: every registered op runs from --seed through the CLI,
// replays from its own output file bit for bit, appears in `v4oracle list`, and is documented in
// docs/cli.md with its default shape parameters. A new component is covered by this file without
// editing it (docs/adding-a-component.md).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "golden/ops.h"
#include "golden/tensor_io.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

using namespace v4;
using namespace v4::golden;
namespace fs = std::filesystem;

namespace {

using v4::test::slurp;

class OpRegistry : public v4::test::TempDirTest {
 protected:
  // Runs the CLI; returns the exit status, stdout and stderr in *out and *err.
  int run(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) const {
    const v4::test::CliRun r = v4::test::run_cli(args, dir_);
    if (out) *out = r.out;
    if (err) *err = r.err;
    return r.status;
  }
};

}  // namespace

TEST(OpRegistryList, NamesAreUniqueAndEveryOpIsComplete) {
  std::set<std::string> names;
  ASSERT_FALSE(op_registry().empty());
  for (const OpSpec& op : op_registry()) {
    EXPECT_TRUE(names.insert(op.name).second) << op.name << " registered twice";
    EXPECT_FALSE(op.summary.empty()) << op.name;
    EXPECT_TRUE(op.make_inputs) << op.name;
    EXPECT_TRUE(op.run) << op.name;
    EXPECT_EQ(op_find(op.name), &op) << op.name;
  }
  EXPECT_EQ(op_find("no_such_op"), nullptr);
}

TEST_F(OpRegistry, EveryOpRunsFromASeedAndReplaysBitForBit) {
  std::string list;
  ASSERT_EQ(run("list", &list), 0);
  for (const OpSpec& op : op_registry()) {
    SCOPED_TRACE(op.name);
    EXPECT_NE(list.find("  " + op.name + " "), std::string::npos) << "not in `v4oracle list`";
    const std::string seeded = (dir_ / (op.name + ".h5")).string(), replay = (dir_ / (op.name + "_r.h5")).string();
    std::string err;
    ASSERT_EQ(run("op " + op.name + " --seed 7 -o " + seeded, nullptr, &err), 0) << err;
    ASSERT_EQ(run("op " + op.name + " --inputs " + seeded + " -o " + replay, nullptr, &err), 0) << err;
    const H5Reader a(seeded), b(replay);
    const std::vector<std::string> ds = a.datasets();
    EXPECT_EQ(ds, b.datasets());
    EXPECT_FALSE(ds.empty());
    for (const std::string& d : ds) {
      const TensorInfo ia = a.info(d), ib = b.info(d);
      EXPECT_EQ(ia.fmt, ib.fmt) << d;
      EXPECT_EQ(ia.shape, ib.shape) << d;
      EXPECT_FALSE(ia.sha256.empty()) << d;
      EXPECT_EQ(ia.sha256, ib.sha256) << d << ": the replay moved bits";
      EXPECT_TRUE(b.verify_hash(d)) << d;
    }
    EXPECT_EQ(a.root_str("op"), op.name);
    EXPECT_EQ(b.root_str("inputs"), seeded);
  }
}

// docs/cli.md's op table has a row naming every op (in backticks) with each default shape parameter as
// `k=v`; a row may name several ops that share inputs and defaults.
TEST(OpRegistryDocs, EveryOpIsDocumentedWithItsDefaults) {
  const std::string doc = slurp(fs::path(V4ORACLE_SOURCE_DIR) / "docs" / "cli.md");
  ASSERT_FALSE(doc.empty());
  for (const OpSpec& op : op_registry()) {
    SCOPED_TRACE(op.name);
    std::istringstream lines(doc);
    std::string line, row;
    while (std::getline(lines, line))
      if (line.rfind("| ", 0) == 0 && line.find("`" + op.name + "`") != std::string::npos && line.find("`" + op.name + "`") < line.find(" | ", 2)) {
        row = line;
        break;
      }
    ASSERT_FALSE(row.empty()) << "no row for `" << op.name << "` in docs/cli.md's op table";
    for (const auto& [k, v] : op.defaults)
      EXPECT_NE(row.find(k + "=" + std::to_string(v)), std::string::npos) << "default " << k << "=" << v << " not in: " << row;
  }
}
