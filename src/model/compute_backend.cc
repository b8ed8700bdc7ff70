#include "model/compute_backend.h"

#include "util/error.h"
#if HEARTH_VULKAN
#include "vulkan/vk_backend.h"
#endif

namespace hearth::model {

bool have_vulkan() {
#if HEARTH_VULKAN
  return true;
#else
  return false;
#endif
}

std::unique_ptr<ops::Backend> make_compute_backend(const std::string& name) {
  if (name.rfind("vulkan", 0) != 0) return ops::make_backend(name);
#if HEARTH_VULKAN
  int index = -1;
  if (name == "vulkan") {
    index = vulkan::default_device();
    if (index < 0) throw Error(ErrorCode::not_found, "no Vulkan GPU found");
  } else if (name.size() > 7 && name[6] == ':') {
    try {
      index = std::stoi(name.substr(7));
    } catch (const std::exception&) {
      throw Error(ErrorCode::invalid_argument, "unknown compute backend '" + name + "'");
    }
  } else {
    throw Error(ErrorCode::invalid_argument, "unknown compute backend '" + name + "'");
  }
  return vulkan::make_backend(index);
#else
  throw Error(ErrorCode::unsupported, "this build of Hearth has no Vulkan backend ('" + name + "')");
#endif
}

}  // namespace hearth::model
