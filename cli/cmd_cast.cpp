// `v4oracle cast --to <fmt> [--mode satfinite|nosat] --inputs in.h5 [--dataset x] -o out.h5`:
// element-wise conversion of a float32 dataset; writes `codes` (raw codes) and `values` (decoded f32).
#include <cstdio>

#include "cli/commands.h"
#include "golden/file_meta.h"
#include "golden/ops.h"
#include "golden/output_file.h"

namespace v4::cli {

namespace {
struct CastArgs {
  std::string to, mode = "satfinite", inputs, dataset = "x", out;
};
}  // namespace

void register_cast(CLI::App& app) {
  auto args = std::make_shared<CastArgs>();
  CLI::App* sub = app.add_subcommand("cast", "Convert a float32 dataset to a number format");
  sub->add_option("--to", args->to, "target format")->required()->check(CLI::IsMember({"bf16", "e4m3fn", "e5m2", "e2m1", "ue8m0"}));
  sub->add_option("--mode", args->mode, "fp8 overflow/NaN behaviour: satfinite (CUDA) or nosat (PyTorch)")
      ->check(CLI::IsMember({"satfinite", "nosat"}));
  sub->add_option("--inputs", args->inputs, "input HDF5 file")->required();
  sub->add_option("--dataset", args->dataset, "float32 dataset to convert");
  sub->add_option("-o,--output", args->out, "output HDF5 file (- for stdout)")->required();
  add_help_footer(sub, "v4oracle cast --to e4m3fn --mode nosat --inputs x.h5 -o x_fp8.h5");
  sub->callback([args] {
    const Fmt to = args->to == "e2m1" ? Fmt::e2m1x2 : *fmt_parse(args->to);
    if (args->mode == "nosat" && to != Fmt::e4m3fn && to != Fmt::e5m2)
      throw std::invalid_argument("cast: --mode applies to e4m3fn and e5m2 only");
    const Sat sat = args->mode == "nosat" ? Sat::nosat : Sat::satfinite;
    const golden::OutputTarget target = golden::check_output(args->out);
    golden::check_outputs_distinct({target}, {args->inputs});
    const golden::H5Reader in(args->inputs);
    const std::string ds = args->dataset.front() == '/' ? args->dataset : "/" + args->dataset;
    const Tensor x = in.read(ds, Fmt::f32);
    golden::CastResult r = golden::cast_tensor(x, to, sat);
    golden::H5Writer w(args->out);
    golden::write_file_meta(w, "cast", fmt_name(to));
    w.set_root_attr("mode", args->mode);
    w.set_root_attr("inputs", args->inputs + ":" + ds);
    w.write("/codes", r.codes);
    w.write("/values", r.values);
    w.commit();
    std::fprintf(target.kind == golden::OutputKind::stdout_ ? stderr : stdout, "cast %lld element%s of %s:%s to %s (%s) -> %s\n", (long long)x.numel(), x.numel() == 1 ? "" : "s", args->inputs.c_str(), ds.c_str(),
                fmt_name(to), args->mode.c_str(), args->out.c_str());
  });
}

}  // namespace v4::cli
