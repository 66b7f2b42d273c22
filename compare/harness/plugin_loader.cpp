// "plugin:PATH": a kernel library with the C ABI of v4oracle_plugin.h, loaded with dlopen. Load-time
// errors (no such file, not a loadable library, a missing symbol, another ABI version, a device plug-in
// in a build without CUDA) are std::invalid_argument naming the library: exit 2 in the CLI.
#include <dlfcn.h>
#include <sys/stat.h>

#include <stdexcept>

#include "compare/harness/candidate.h"
#include "compare/harness/device_memory.h"
#include "compare/harness/v4oracle_plugin.h"

namespace v4::harness {

namespace {

DeviceMemory* g_device = nullptr;

using InfoFn = const v4o_plugin_info* (*)();
using KernelFn = const char* (*)(const char*, const char*);
using RunFn = int (*)(const char*, const char*, const v4o_tensor*, int32_t, v4o_tensor*, int32_t, void*, char*, size_t);

// The ABI's format names (v4oracle_plugin.h): the comparator's names except float32 / int32 / int64.
const char* abi_fmt(Fmt f) {
  switch (f) {
    case Fmt::f32: return "float32";
    case Fmt::i32: return "int32";
    case Fmt::i64: return "int64";
    default: return fmt_name(f);
  }
}

v4o_tensor describe(const std::string& who, const std::string& name, const Tensor& t, void* data) {
  if (t.shape.size() > V4O_MAX_RANK)
    throw std::invalid_argument(who + ": tensor " + name + " has rank " + std::to_string(t.shape.size()) + " > V4O_MAX_RANK");
  v4o_tensor d{};
  d.name = name.c_str();
  d.fmt = abi_fmt(t.fmt);
  d.rank = int32_t(t.shape.size());
  for (size_t i = 0; i < t.shape.size(); ++i) d.shape[i] = t.shape[i];
  d.data = data;
  return d;
}

// Device buffers of one launch, freed on every path.
struct DeviceBuffers {
  DeviceMemory* dev;
  std::vector<void*> ptrs;
  ~DeviceBuffers() {
    for (void* p : ptrs) dev->free(p);
  }
  void* alloc(size_t n) {
    ptrs.push_back(dev->alloc(n ? n : 1));
    return ptrs.back();
  }
};

class PluginCandidate final : public Candidate {
 public:
  explicit PluginCandidate(const std::string& path) : path_(path), who_("plugin:" + path) {
    struct stat st{};
    if (path.empty()) throw std::invalid_argument("candidate plugin: give the library, plugin:PATH");
    if (::stat(path.c_str(), &st) != 0) throw std::invalid_argument(who_ + ": no such file");
    // A bare name would make dlopen search the library path instead of loading the file given.
    const std::string open_path = path.find('/') == std::string::npos ? "./" + path : path;
    handle_ = ::dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::invalid_argument(who_ + ": cannot load: " + std::string(::dlerror()));
    try {
      info_ = reinterpret_cast<InfoFn>(symbol("v4o_info"))();
      kernel_ = reinterpret_cast<KernelFn>(symbol("v4o_kernel"));
      run_ = reinterpret_cast<RunFn>(symbol("v4o_run"));
      if (!info_) throw std::invalid_argument(who_ + ": v4o_info() returned NULL");
      if (info_->abi_version != V4O_PLUGIN_ABI_VERSION)
        throw std::invalid_argument(who_ + ": plug-in ABI version " + std::to_string(info_->abi_version) +
                                    ", this v4oracle loads version " + std::to_string(V4O_PLUGIN_ABI_VERSION));
      if (info_->memory != V4O_MEMORY_HOST && info_->memory != V4O_MEMORY_DEVICE)
        throw std::invalid_argument(who_ + ": unknown memory kind " + std::to_string(info_->memory));
      if (info_->memory == V4O_MEMORY_DEVICE && !g_device)
        throw std::invalid_argument(who_ + ": a device-memory plug-in needs a CUDA build (configure with -DV4ORACLE_CUDA=ON)");
    } catch (...) {
      ::dlclose(handle_);
      throw;
    }
  }
  ~PluginCandidate() override { ::dlclose(handle_); }

  std::string name() const override {
    return who_ + (info_->name && *info_->name ? std::string(" (") + info_->name + ")" : "");
  }
  std::string kernel(const std::string& op, Recipe r) const override {
    const char* k = kernel_(op.c_str(), recipe_name(r));
    return k ? k : "";
  }
  int streams() const override { return info_->memory == V4O_MEMORY_DEVICE ? g_device->streams() : 1; }
  std::string device() const override { return info_->memory == V4O_MEMORY_DEVICE ? g_device->device() : "CPU"; }

  Outputs run(const std::string& op, const Inputs& in, const Outputs& expected, Recipe r, const RunOptions& opt) override {
    Outputs out;
    for (const auto& [name, t] : expected) out.emplace_back(name, Tensor::make(t.fmt, t.shape));
    std::vector<v4o_tensor> ti, to;
    const bool dev = info_->memory == V4O_MEMORY_DEVICE;
    DeviceBuffers bufs{g_device, {}};
    void* stream = nullptr;
    if (dev) {
      stream = g_device->stream(opt.stream);
      for (const auto& [name, t] : in) {
        void* p = bufs.alloc(t->data.size());
        g_device->upload(p, t->data.data(), t->data.size(), opt.stream);
        ti.push_back(describe(who_, name, *t, p));
      }
      for (auto& [name, t] : out) to.push_back(describe(who_, name, t, bufs.alloc(t.data.size())));
    } else {
      // The ABI's input pointers are non-const: hand the plug-in copies so a faulty one cannot alter the golden's.
      copies_.clear();
      for (const auto& [name, t] : in) copies_.push_back(*t);
      size_t i = 0;
      for (const auto& [name, t] : in) ti.push_back(describe(who_, name, *t, copies_[i++].data.data()));
      for (auto& [name, t] : out) to.push_back(describe(who_, name, t, t.data.data()));
    }
    char err[512] = {0};
    const int rc = run_(op.c_str(), recipe_name(r), ti.data(), int32_t(ti.size()), to.data(), int32_t(to.size()), stream,
                        err, sizeof err);
    err[sizeof err - 1] = 0;
    if (dev) g_device->sync(opt.stream);
    if (rc != 0)
      throw std::invalid_argument(who_ + ": v4o_run(" + op + ", " + recipe_name(r) + ") failed: " + (*err ? err : "no reason given"));
    if (dev) {
      size_t i = 0;
      for (auto& [name, t] : out) g_device->download(t.data.data(), to[i++].data, t.data.size(), opt.stream);
      g_device->sync(opt.stream);
    }
    return out;
  }

 private:
  void* symbol(const char* s) {
    ::dlerror();
    void* p = ::dlsym(handle_, s);
    if (!p) throw std::invalid_argument(who_ + ": symbol " + s + " not found (v4oracle_plugin.h ABI)");
    return p;
  }

  std::string path_, who_;
  void* handle_ = nullptr;
  const v4o_plugin_info* info_ = nullptr;
  KernelFn kernel_ = nullptr;
  RunFn run_ = nullptr;
  std::vector<Tensor> copies_;
};

}  // namespace

void set_device_memory(DeviceMemory* m) { g_device = m; }
DeviceMemory* device_memory() { return g_device; }

std::unique_ptr<Candidate> make_plugin_candidate(const std::string& path) { return std::make_unique<PluginCandidate>(path); }

}  // namespace v4::harness
