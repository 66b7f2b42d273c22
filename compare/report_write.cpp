// Report files are written all or none, each whole: see report_write_atomic / report_write_all in report.h.
#include "compare/report.h"
#include "golden/output_file.h"

namespace v4::compare {

void report_write_all(const std::vector<std::pair<golden::OutputTarget, std::string>>& reports) {
  golden::write_files_atomic(reports);
}

void report_write_atomic(const std::string& path, const std::string& content) {
  golden::write_files_atomic({{golden::check_output(path), content}});
}

}  // namespace v4::compare
