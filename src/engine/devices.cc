#include "engine/devices.h"

#include "model/compute_backend.h"

namespace hearth::engine {

std::vector<std::string> compute_devices() { return model::describe_devices(); }

}  // namespace hearth::engine
