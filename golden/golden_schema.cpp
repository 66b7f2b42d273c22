// The golden schema: see golden_schema.h. Links travel as TensorAttrs::extra string attributes, so
// tensor_io alone writes and reads them (TensorInfo::other_attrs tells a malformed link attribute from an
// absent one).
#include "golden/golden_schema.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace v4::golden {

std::string golden_layer_path(int64_t layer, const std::string& component, const std::string& tensor) {
  return "/layers/" + std::to_string(layer) + "/" + component + "/" + tensor;
}

namespace {

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

SchemaReader::SchemaReader(const H5Reader& reader) : h5_(&reader) {}

TensorLinks SchemaReader::links(const std::string& dataset) const {
  const TensorInfo info = h5_->info(dataset);
  const std::vector<std::pair<std::string, std::string>>& extra = info.attrs.extra;
  TensorLinks l;
  for (const auto& [name, field] : {std::pair{kAttrTensorKind, &l.kind}, std::pair{kAttrScores, &l.scores},
                                    std::pair{kAttrSource, &l.source}}) {
    // `key`, not the structured binding itself, is captured: clang before 16 cannot capture bindings (fuzz/).
    const auto it = std::find_if(extra.begin(), extra.end(), [key = name](const auto& a) { return a.first == key; });
    if (it != extra.end())
      *field = it->second;
    else if (std::find(info.other_attrs.begin(), info.other_attrs.end(), name) != info.other_attrs.end())
      throw InputError(path(), dataset, std::string("attribute '") + name + "' should be a single string");
  }
  if (!l.kind.empty() && l.kind != kKindTopkIndices)
    throw InputError(path(), dataset, "unknown kind '" + l.kind + "' (known: topk_indices)");
  if (l.kind == kKindTopkIndices && l.scores.empty())
    throw InputError(path(), dataset, "kind topk_indices needs a 'scores' attribute naming the scores dataset");
  return l;
}

}  // namespace v4::golden
