// Internal to golden/: the metadata of one file that an H5Reader has validated, and its hand-over from
// the forked inspector to the reading process (docs/hdf5-tensors.md §Untrusted files). The inspector's
// child walks the file once; what it validated travels back through its pipe as the byte string below,
// so the parent does not walk the same metadata a second time.
#pragma once
#include <sys/stat.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "golden/tensor_io.h"

namespace v4::golden {

struct ReaderCatalog {
  std::optional<std::vector<std::string>> datasets;  // H5Reader::datasets(), once known
  std::map<std::string, TensorInfo> infos;           // by canonical dataset path: H5Reader::info()
  bool operator==(const ReaderCatalog&) const = default;
};

// A self-delimiting byte string (magic, version, the fields, an end mark) and its strict parse: nullopt
// for anything malformed, truncated or with trailing bytes, so a damaged hand-over is never half used.
std::string serialize_catalog(const ReaderCatalog& c);
std::optional<ReaderCatalog> parse_catalog(const std::string& bytes);

// What the inspection of the file with this stat (device, inode, size, modification and status-change
// times) handed over;
// nullopt when it was not inspected in this process, handed nothing over, or the file has changed since.
std::optional<ReaderCatalog> inspected_catalog(const struct stat& st);

}  // namespace v4::golden
