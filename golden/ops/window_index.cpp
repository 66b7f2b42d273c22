// window_index: the attention's index lists (reference/window_index.h, docs/window_index.md).
#include "golden/ops.h"
#include "golden/ops/attention_inputs.h"
#include "reference/window_index.h"

namespace v4::golden {

namespace ai = attn_inputs;

std::vector<OpSpec> ops_window_index() {
  OpSpec op;
  op.name = "window_index";
  op.summary = "s, win, ratio, decode i32 -> window i32 [s, min(s,win)] (prefill) or [win] (decode at p = s); compressed i32 (HCA visible entries, ratio > 0)";
  op.defaults = {{"s", 20}, {"win", 8}, {"ratio", 4}, {"decode", 0}};
  op.make_inputs = [](uint64_t, const ShapeParams& p) {
    return std::vector<NamedTensor>{{"s", scalar_i32(param(p, "s"))},
                                    {"win", scalar_i32(param(p, "win"))},
                                    {"ratio", scalar_i32(param(p, "ratio"))},
                                    {"decode", scalar_i32(param(p, "decode"))}};
  };
  op.run = [](const OpInputs& in, Recipe) {
    const int64_t s = in.get_i32_scalar("s"), win = in.get_i32_scalar("win"), r = in.get_i32_scalar("ratio");
    const bool decode = in.get_switch("decode");
    if (s <= 0) in.fail("s", "must be positive (the prefill length, or the decode position)");
    if (win <= 0) in.fail("win", "must be positive");
    if (r < 0) in.fail("ratio", "negative");
    std::vector<NamedTensor> out;
    if (decode) {
      Tensor w = Tensor::make(Fmt::i32, {win});
      window_index_decode(s, win, w.as<int32_t>());
      out.push_back({"window", std::move(w)});
      if (r > 0 && compressed_index_decode_width(s, r) > 0) {
        Tensor c = Tensor::make(Fmt::i32, {compressed_index_decode_width(s, r)});
        compressed_index_decode(s, r, win, c.as<int32_t>());
        out.push_back({"compressed", std::move(c)});
      }
    } else {
      Tensor w = Tensor::make(Fmt::i32, {s, window_index_prefill_width(s, win)});
      window_index_prefill(s, win, w.as<int32_t>());
      out.push_back({"window", std::move(w)});
      if (r > 0 && compressed_index_prefill_width(s, r) > 0) {
        Tensor c = Tensor::make(Fmt::i32, {s, compressed_index_prefill_width(s, r)});
        compressed_index_prefill(s, r, s, c.as<int32_t>());
        out.push_back({"compressed", std::move(c)});
      }
    }
    return out;
  };
  return {op};
}

}  // namespace v4::golden
