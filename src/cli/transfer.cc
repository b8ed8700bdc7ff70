#include "cli/transfer.h"

#include <unistd.h>

#include <cstdio>

#include "cli/progress.h"
#include "cli/repl_terminal.h"

namespace hearth::cli {
namespace {

void stream_progress(ApiClient& client, const std::string& path, const Json& request) {
  ProgressDisplay progress(stderr, stderr_is_terminal(), terminal_width());
  Json body = request;
  body["stream"] = true;
  client.stream(path, body, [&](const Json& event) {
    progress.update(event);
    return true;
  });
  progress.finish();
}

}  // namespace

bool stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

void pull_with_progress(ApiClient& client, const std::string& model, bool insecure) {
  Json req = {{"model", model}};
  if (insecure) req["insecure"] = true;
  stream_progress(client, "/api/pull", req);
}

void push_with_progress(ApiClient& client, const std::string& model, bool insecure) {
  Json req = {{"model", model}};
  if (insecure) req["insecure"] = true;
  stream_progress(client, "/api/push", req);
}

void create_with_progress(ApiClient& client, const Json& request) {
  stream_progress(client, "/api/create", request);
}

}  // namespace hearth::cli
