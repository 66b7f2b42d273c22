// The golden schema: see golden_schema.h. HDF5 C API only; string attributes are variable-length UTF-8
// (what h5py writes for a Python str), read back whether fixed- or variable-length.
#include "golden/golden_schema.h"

#include <hdf5.h>
#include <sys/stat.h>

#include <cstring>
#include <utility>

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

// The same file-access properties as H5Writer/H5Reader: HDF5 refuses a second open of a file with a
// different close degree.
H5Id strong_fapl(bool v18) {
  H5Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  if (v18) H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
  return fapl;
}

void write_str_attr(hid_t obj, const char* name, const std::string& value, const std::string& where) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  H5Id space(H5Screate(H5S_SCALAR), H5Sclose);
  if (H5Aexists(obj, name) > 0) H5Adelete(obj, name);
  H5Id attr(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  if (!attr.ok() || H5Awrite(attr, type, &p) < 0)
    throw std::runtime_error("golden_attach_links: " + where + ": cannot write attribute " + name);
}

std::optional<std::string> read_str_attr(hid_t obj, const char* name, const std::string& file, const std::string& ds) {
  if (H5Aexists(obj, name) <= 0) return std::nullopt;
  H5Id attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
  H5Id ftype(H5Aget_type(attr), H5Tclose);
  if (!attr.ok() || H5Tget_class(ftype) != H5T_STRING)
    throw InputError(file, ds, std::string("attribute '") + name + "' should be a string");
  H5Id space(H5Aget_space(attr), H5Sclose);
  if (H5Sget_simple_extent_npoints(space) != 1)
    throw InputError(file, ds, std::string("attribute '") + name + "' should be a single string");
  H5Id mtype(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mtype, H5Tget_cset(ftype));
  if (H5Tis_variable_str(ftype) > 0) {
    H5Tset_size(mtype, H5T_VARIABLE);
    char* p = nullptr;
    if (H5Aread(attr, mtype, &p) < 0) throw InputError(file, ds, std::string("cannot read attribute '") + name + "'");
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  const size_t n = H5Tget_size(ftype);
  H5Tset_size(mtype, n);
  H5Tset_strpad(mtype, H5Tget_strpad(ftype));
  std::string buf(n + 1, '\0');
  if (H5Aread(attr, mtype, buf.data()) < 0) throw InputError(file, ds, std::string("cannot read attribute '") + name + "'");
  buf.resize(std::strlen(buf.c_str()));
  if (H5Tget_strpad(ftype) == H5T_STR_SPACEPAD)
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  return buf;
}

}  // namespace

void golden_attach_links(H5Writer& w, const std::string& dataset, const TensorLinks& links) {
  if (links.empty()) return;
  if (!links.kind.empty() && links.kind != kKindTopkIndices)
    throw std::invalid_argument("golden_attach_links: " + dataset + ": unknown kind '" + links.kind + "'");
  if (links.kind == kKindTopkIndices && links.scores.empty())
    throw std::invalid_argument("golden_attach_links: " + dataset + ": a topk_indices tensor needs its scores path");
  H5Id fapl = strong_fapl(true);
  H5Id file(H5Fopen(w.temp_path().c_str(), H5F_ACC_RDWR, fapl), H5Fclose);
  if (!file.ok()) throw std::runtime_error("golden_attach_links: cannot reopen " + w.temp_path());
  H5Id dset(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw std::invalid_argument("golden_attach_links: no dataset " + dataset);
  if (!links.kind.empty()) write_str_attr(dset, kAttrTensorKind, links.kind, dataset);
  if (!links.scores.empty()) write_str_attr(dset, kAttrScores, links.scores, dataset);
  if (!links.source.empty()) write_str_attr(dset, kAttrSource, links.source, dataset);
}

GoldenWriter::GoldenWriter(std::string path, const GoldenMeta& meta) : w_(std::move(path)) { write_golden_meta(w_, meta); }

void GoldenWriter::write(const std::string& dataset, const Tensor& t, const TensorAttrs& attrs, const TensorLinks& links) {
  w_.write(dataset, t, attrs);
  golden_attach_links(w_, dataset, links);
}

H5DatasetStream GoldenWriter::begin_dataset(const std::string& dataset, Fmt fmt, std::vector<int64_t> shape,
                                            const TensorAttrs& attrs, const TensorLinks& links) {
  H5DatasetStream s = w_.begin_dataset(dataset, fmt, std::move(shape), attrs);
  golden_attach_links(w_, dataset, links);
  return s;
}

SchemaReader::SchemaReader(std::string path) : path_(std::move(path)) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) throw InputError(path_, "", "cannot open: " + std::string(std::strerror(errno)));
  file_size_ = uint64_t(st.st_size);
  H5Id fapl = strong_fapl(false);
  file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, fapl);
  if (file_ < 0) throw InputError(path_, "", "corrupt or truncated HDF5 file");
}

SchemaReader::~SchemaReader() {
  if (file_ >= 0) H5Fclose(file_);
}

TensorLinks SchemaReader::links(const std::string& dataset) const {
  H5Id dset(H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dset.ok()) throw InputError(path_, dataset, "no such dataset");
  TensorLinks l;
  l.kind = read_str_attr(dset, kAttrTensorKind, path_, dataset).value_or("");
  l.scores = read_str_attr(dset, kAttrScores, path_, dataset).value_or("");
  l.source = read_str_attr(dset, kAttrSource, path_, dataset).value_or("");
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
