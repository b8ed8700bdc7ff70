// general.architecture -> factory. An explicit table (not self-registration from static
// initializers, which a static library link would silently drop).

#include <string>
#include <vector>

#include "model/architectures.h"
#include "model/model.h"
#include "util/error.h"

namespace hearth::model {

namespace {

struct Entry {
  const char* arch;
  std::unique_ptr<Model> (*make)(gguf::File, const ops::Backend&);
};

constexpr Entry kArchitectures[] = {
    {"llama", make_llama},
    {"qwen2", make_qwen2},
    {"qwen3", make_qwen3},
};

}  // namespace

std::vector<std::string> supported_architectures() {
  std::vector<std::string> out;
  for (const Entry& e : kArchitectures) out.emplace_back(e.arch);
  return out;
}

std::unique_ptr<Model> load_model(gguf::File file, const ops::Backend& backend) {
  const std::string arch = file.get_string("general.architecture");
  for (const Entry& e : kArchitectures) {
    if (arch == e.arch) return e.make(std::move(file), backend);
  }
  std::string known;
  for (const Entry& e : kArchitectures) known += std::string(known.empty() ? "" : ", ") + e.arch;
  throw Error(ErrorCode::unsupported, file.path() + ": model architecture '" + arch +
                                          "' is not supported (supported: " + known + ")");
}

}  // namespace hearth::model
