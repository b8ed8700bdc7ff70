#include "cli/connect.h"
#include "util/error.h"

namespace hearth::cli {

std::unique_ptr<LocalServer> start_local_server() {
  throw Error(ErrorCode::io, "could not connect to hearth server, run 'hearth serve' to start it");
}

}  // namespace hearth::cli
