// gguf-dump FILE [--all]: prints a GGUF file's version, metadata (arrays abbreviated unless
// --all) and tensor table. Exits 1 with the reader's message on a bad file.

#include <cstdio>
#include <cstring>
#include <string>

#include "gguf/gguf_file.h"
#include "util/error.h"

int main(int argc, char** argv) {
  std::string path;
  bool all = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--all") == 0) {
      all = true;
    } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      path.clear();
      break;
    } else {
      path = argv[i];
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: gguf-dump FILE [--all]\n");
    return 2;
  }
  try {
    using namespace hearth::gguf;
    File f = File::open(path);
    std::printf("%s: GGUF v%u, %zu metadata keys, %zu tensors, alignment %llu, data at byte %llu\n",
                path.c_str(), f.version(), f.metadata().size(), f.tensors().size(),
                static_cast<unsigned long long>(f.alignment()),
                static_cast<unsigned long long>(f.data_offset()));
    std::printf("\nmetadata:\n");
    for (const auto& [key, value] : f.metadata()) {
      std::string shown = value.describe(all ? static_cast<size_t>(-1) : 8);
      std::printf("  %-40s %-16s %s\n", key.c_str(), value.type_string().c_str(), shown.c_str());
    }
    std::printf("\ntensors:\n  %-5s %-40s %-8s %-28s %12s %14s\n", "#", "name", "type", "shape",
                "offset", "bytes");
    uint64_t total = 0;
    int64_t params = 0;
    for (size_t i = 0; i < f.tensors().size(); ++i) {
      const TensorInfo& t = f.tensors()[i];
      std::printf("  %-5zu %-40s %-8s %-28s %12llu %14llu\n", i, t.name.c_str(), type_name(t.type),
                  t.shape_string().c_str(), static_cast<unsigned long long>(t.offset),
                  static_cast<unsigned long long>(t.n_bytes));
      total += t.n_bytes;
      params += t.n_elements();
    }
    std::printf("\n%zu tensors, %lld parameters, %llu bytes of tensor data\n", f.tensors().size(),
                static_cast<long long>(params), static_cast<unsigned long long>(total));
  } catch (const hearth::Error& e) {
    std::fprintf(stderr, "gguf-dump: %s\n", e.what());
    return 1;
  }
  return 0;
}
