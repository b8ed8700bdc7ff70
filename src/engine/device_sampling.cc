#include "engine/device_sampling.h"

#include <string>

#include "util/env.h"
#include "util/error.h"

namespace hearth::engine {

bool best_logits_on(const model::Model& model, int option) {
  if (option < 0) {
    const std::string v = env_value("HEARTH_DEVICE_SAMPLING");
    if (v != "" && v != "0" && v != "1") {
      throw Error(ErrorCode::invalid_argument, "HEARTH_DEVICE_SAMPLING=" + v + ": expected 0 or 1");
    }
    option = v.empty() ? 2 : v == "1" ? 1 : 0;
  }
  return option == 1 || (option == 2 && model.best_logits_pay());
}

}  // namespace hearth::engine
