// Report files are written whole or not at all: see report_write_atomic in report.h.
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "compare/report.h"

namespace v4::compare {

void report_write_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp." + std::to_string(long(::getpid()));
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw golden::InputError(path, "", "cannot write the report (temporary file " + tmp + ")");
    f.write(content.data(), std::streamsize(content.size()));
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw golden::InputError(path, "", "cannot write the report");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw golden::InputError(path, "", "cannot rename the report into place");
  }
}

}  // namespace v4::compare
