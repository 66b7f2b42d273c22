// A fresh temporary directory per test: <tmp>/v4oracle_<pid>_<suite>_<test>, unique per test and process
// (parallel ctest runs each binary in its own process). Emptied when created (a leftover of an earlier
// process with the same pid) and removed with everything in it when destroyed. TempDir is the RAII
// object; TempDirTest is the gtest fixture base that gives each test one, as dir_ and path(name).
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace v4::test {

class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = info ? std::string(info->test_suite_name()) + "_" + info->name() : "no_test";
    std::replace(name.begin(), name.end(), '/', '_');  // parameterized names ("Case/0") stay one directory
    dir_ = std::filesystem::temp_directory_path() / ("v4oracle_" + std::to_string(::getpid()) + "_" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~TempDir() {
    std::error_code ignored;  // a destructor must not throw; a leftover directory is only litter
    std::filesystem::remove_all(dir_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

 private:
  std::filesystem::path dir_;
};

class TempDirTest : public ::testing::Test {
 protected:
  std::string path(const std::string& name) const { return tmp_.path(name); }

  TempDir tmp_;
  const std::filesystem::path dir_ = tmp_.dir();
};

}  // namespace v4::test
