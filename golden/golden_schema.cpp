// The golden schema: see golden_schema.h. Links travel as TensorAttrs::extra string attributes, so
// tensor_io alone writes and reads them; the HDF5 C API is used here for raw extents (and to tell a malformed
// link attribute from an absent one).
#include "golden/golden_schema.h"

#include <hdf5.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

namespace v4::golden {

std::string golden_layer_path(int64_t layer, const std::string& component, const std::string& tensor) {
  return "/layers/" + std::to_string(layer) + "/" + component + "/" + tensor;
}

namespace {

struct H5Id {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  H5Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {}
  H5Id(H5Id&& o) noexcept : id(std::exchange(o.id, -1)), close(o.close) {}
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() {
    if (id >= 0) close(id);
  }
  bool ok() const { return id >= 0; }
  operator hid_t() const { return id; }
};

// The links as TensorAttrs::extra entries, in the fixed order kind, scores, source (empty ones left out).
std::vector<std::pair<std::string, std::string>> links_as_attrs(const std::string& dataset, const TensorLinks& links) {
  if (!links.kind.empty() && links.kind != kKindTopkIndices)
    throw std::invalid_argument("golden links: " + dataset + ": unknown kind '" + links.kind + "'");
  if (links.kind == kKindTopkIndices && links.scores.empty())
    throw std::invalid_argument("golden links: " + dataset + ": a topk_indices tensor needs its scores path");
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : {std::pair{kAttrTensorKind, &links.kind}, std::pair{kAttrScores, &links.scores},
                                    std::pair{kAttrSource, &links.source}})
    if (!value->empty()) out.emplace_back(name, *value);
  return out;
}

TensorAttrs attrs_with_links(const std::string& dataset, const TensorAttrs& attrs, const TensorLinks& links) {
  TensorAttrs a = attrs;
  for (auto& attr : links_as_attrs(dataset, links)) a.extra.push_back(std::move(attr));
  return a;
}

}  // namespace

void golden_attach_links(H5Writer& w, const std::string& dataset, const TensorLinks& links) {
  for (const auto& [name, value] : links_as_attrs(dataset, links)) w.set_dataset_attr(dataset, name, value);
}

GoldenWriter::GoldenWriter(std::string path, const GoldenMeta& meta) : w_(std::move(path)) { write_golden_meta(w_, meta); }

void GoldenWriter::write(const std::string& dataset, const Tensor& t, const TensorAttrs& attrs, const TensorLinks& links) {
  w_.write(dataset, t, attrs_with_links(dataset, attrs, links));
}

H5DatasetStream GoldenWriter::begin_dataset(const std::string& dataset, Fmt fmt, std::vector<int64_t> shape,
                                            const TensorAttrs& attrs, const TensorLinks& links) {
  return w_.begin_dataset(dataset, fmt, std::move(shape), attrs_with_links(dataset, attrs, links));
}

SchemaReader::SchemaReader(std::string path) : path_(std::move(path)), h5_(path_) {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) throw InputError(path_, "", "cannot open: " + std::string(std::strerror(errno)));
  file_size_ = uint64_t(st.st_size);
  // The same close degree as H5Reader's handle: HDF5 refuses a second open with a different one.
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, fapl);
  if (file_ < 0) throw InputError(path_, "", "corrupt or truncated HDF5 file");
}

SchemaReader::~SchemaReader() {
  if (file_ >= 0) H5Fclose(file_);
}

TensorLinks SchemaReader::links(const std::string& dataset) const {
  const std::vector<std::pair<std::string, std::string>> extra = h5_.info(dataset).attrs.extra;
  TensorLinks l;
  for (const auto& [name, field] : {std::pair{kAttrTensorKind, &l.kind}, std::pair{kAttrScores, &l.scores},
                                    std::pair{kAttrSource, &l.source}}) {
    // `key`, not the structured binding itself, is captured: clang before 16 cannot capture bindings (fuzz/).
    const auto it = std::find_if(extra.begin(), extra.end(), [key = name](const auto& a) { return a.first == key; });
    if (it != extra.end())
      *field = it->second;
    else if (H5Aexists_by_name(file_, dataset.c_str(), name, H5P_DEFAULT) > 0)  // not a single string: not in extra
      throw InputError(path_, dataset, std::string("attribute '") + name + "' should be a single string");
  }
  if (!l.kind.empty() && l.kind != kKindTopkIndices)
    throw InputError(path_, dataset, "unknown kind '" + l.kind + "' (known: topk_indices)");
  if (l.kind == kKindTopkIndices && l.scores.empty())
    throw InputError(path_, dataset, "kind topk_indices needs a 'scores' attribute naming the scores dataset");
  return l;
}

std::optional<RawExtent> SchemaReader::raw_extent(const std::string& dataset, const TensorInfo& info) const {
  H5Id dset(H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(path_, dataset, "no such dataset");
  H5Id dcpl(H5Dget_create_plist(dset), H5Pclose);
  if (H5Pget_layout(dcpl) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl) != 0) return std::nullopt;
  H5Id type(H5Dget_type(dset), H5Tclose);
  if (H5Tget_order(type) == H5T_ORDER_BE || H5Tget_size(type) != fmt_storage_size(info.fmt)) return std::nullopt;
  if (info.stored_bytes == 0) return RawExtent{0, 0};
  const haddr_t off = H5Dget_offset(dset);
  if (off == HADDR_UNDEF) return std::nullopt;  // never written: HDF5 returns fill values
  const uint64_t bytes = uint64_t(info.stored_bytes);
  if (uint64_t(off) > file_size_ || bytes > file_size_ - uint64_t(off))
    throw InputError(path_, dataset,
                     "truncated file: the data ends at byte " + std::to_string(uint64_t(off) + bytes) +
                         " but the file has " + std::to_string(file_size_) + " bytes");
  return RawExtent{uint64_t(off), bytes};
}

}  // namespace v4::golden
