// The BackendLoader the server uses in production. engine::Runner (runner.h) is not in the tree
// yet; until it is, loading reports that plainly instead of pretending to serve.
// TODO(server): adapt Runner to ModelBackend here once runner.h lands.

#include "engine/model_backend.h"
#include "util/error.h"

namespace hearth::engine {

namespace {

class PendingRunnerLoader : public BackendLoader {
 public:
  uint64_t estimate_bytes(const LoadSpec&) override { return 0; }
  std::unique_ptr<ModelBackend> load(const LoadSpec& spec) override {
    throw Error(ErrorCode::unsupported,
                "cannot load " + spec.name + ": this build has no inference engine (engine::Runner)");
  }
};

}  // namespace

std::unique_ptr<BackendLoader> make_runner_loader() { return std::make_unique<PendingRunnerLoader>(); }

}  // namespace hearth::engine
