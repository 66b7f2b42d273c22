// Containment of libhdf5 on untrusted files (docs/hdf5-tensors.md §Untrusted files): before this
// process touches a file with libhdf5, a forked child walks all of its metadata under a watchdog, so a
// libhdf5 crash or hang on a hostile file becomes one InputError line naming the file (exit 2). H5Reader
// does this for every file it opens; a command that opens several files calls inspect_untrusted_files
// with all of them first, so their inspections run at once (each file is inspected once per process).
// The child hands what it validated back (golden/reader_catalog.h), and the readers of the file answer
// from that instead of walking the metadata again. Implemented in untrusted.cpp.
#pragma once
#include <string>
#include <vector>

namespace v4::golden {

// InputError for the first file (in the given order) whose inspection crashed, hung past
// V4ORACLE_INSPECT_TIMEOUT_S seconds (default 20) or failed to start. Missing and non-regular paths are
// skipped (the reader reports them). V4ORACLE_INSPECT=0 turns inspection off (to measure its cost).
void inspect_untrusted_files(const std::vector<std::string>& paths);

}  // namespace v4::golden
