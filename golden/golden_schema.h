// The golden schema on top of tensor_io (design.md §5, docs/golden-schema.md): model-order paths
// /layers/<L>/<component>/<tensor>, the per-dataset semantic links the comparator needs (index tensors
// and the scores they were selected from; quantized tensors and the pre-quantization values they were
// rounded from), a GoldenWriter that stamps root metadata and writes tensors with those links, and a
// SchemaReader for what H5Reader does not interpret: the links (stored as TensorAttrs::extra string
// attributes). The file offset of contiguous datasets, which lets the comparator stream data with plain
// pread or mmap, is TensorInfo::raw.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "golden/file_meta.h"
#include "golden/tensor_io.h"

namespace v4::golden {

// Dataset attributes beyond format/logical_shape/scale/block/sha256 (all optional strings, written as
// TensorAttrs::extra after any extra attributes of the caller's own, in the order kind, scores, source):
//   kind   = "topk_indices": an index tensor [..., k] selecting k of the last dim of `scores`
//            (same leading dims), ordered by the design.md §3 top-k rule (larger score first, equal
//            scores -> smaller index first).
//   scores = path of the scores dataset (f32 or bf16) an index tensor was selected from.
//   source = path of the values (f32 or bf16, same logical shape) a low-precision tensor was rounded
//            from; with `scale` it lets the comparator decide whether a code flip sits on a rounding tie.
inline constexpr const char* kAttrTensorKind = "kind";
inline constexpr const char* kAttrScores = "scores";
inline constexpr const char* kAttrSource = "source";
inline constexpr const char* kKindTopkIndices = "topk_indices";

struct TensorLinks {
  std::string kind;    // "" or kKindTopkIndices
  std::string scores;  // dataset path or ""
  std::string source;  // dataset path or ""
  bool empty() const { return kind.empty() && scores.empty() && source.empty(); }
  bool operator==(const TensorLinks&) const = default;
};

// "/layers/<L>/<component>/<tensor>".
std::string golden_layer_path(int64_t layer, const std::string& component, const std::string& tensor);

// Writes a golden file atomically (H5Writer underneath): root metadata first, then tensors in model
// order, each with its links among its attributes. Same calls with the same data => byte-identical file.
// Links the reader would reject (unknown kind; topk_indices without scores) are std::invalid_argument.
class GoldenWriter {
 public:
  GoldenWriter(std::string path, const GoldenMeta& meta);
  void write(const std::string& dataset, const Tensor& t, const TensorAttrs& attrs = {}, const TensorLinks& links = {});
  void write_layer(int64_t layer, const std::string& component, const std::string& tensor, const Tensor& t,
                   const TensorAttrs& attrs = {}, const TensorLinks& links = {}) {
    write(golden_layer_path(layer, component, tensor), t, attrs, links);
  }
  // Streamed dataset (tensors too big for memory); the links are written at creation.
  H5DatasetStream begin_dataset(const std::string& dataset, Fmt fmt, std::vector<int64_t> shape,
                                const TensorAttrs& attrs = {}, const TensorLinks& links = {});
  H5Writer& h5() { return w_; }
  void commit() { w_.commit(); }

 private:
  H5Writer w_;
};

// Adds links to a dataset `w` has already written (H5Writer::set_dataset_attr: after its other
// attributes), for writers that hold a plain H5Writer; same checks as GoldenWriter::write.
void golden_attach_links(H5Writer& w, const std::string& dataset, const TensorLinks& links);

// Read-only access to the schema parts H5Reader does not interpret (the links), from the metadata
// H5Reader validated. Errors are InputErrors naming the file.
class SchemaReader {
 public:
  explicit SchemaReader(const H5Reader& reader);  // reads through `reader`, which must outlive it
  SchemaReader(const SchemaReader&) = delete;
  SchemaReader& operator=(const SchemaReader&) = delete;

  TensorLinks links(const std::string& dataset) const;
  const std::string& path() const { return h5_->path(); }

 private:
  const H5Reader* h5_;
};

}  // namespace v4::golden
