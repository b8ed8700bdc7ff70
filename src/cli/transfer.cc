#include "cli/transfer.h"

#include <unistd.h>

#include <cstdio>

#include "cli/progress.h"
#include "cli/repl_terminal.h"
#include "store/create.h"
#include "store/digest.h"
#include "util/error.h"

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

Json create_request(ApiClient& client, const std::string& model, const store::CreateSpec& spec) {
  // Refused before any blob is uploaded, in the words create_model uses.
  if (!spec.adapters.empty()) throw Error(ErrorCode::unsupported, store::kAdaptersUnsupported);
  Json req = {{"model", model}};
  if (!spec.from_path.empty()) {
    const std::string digest = store::sha256_file(spec.from_path);
    if (!client.has_blob(digest)) {
      std::fprintf(stderr, "copying file %s\n", spec.from_path.c_str());
      client.upload_blob(digest, spec.from_path);
    }
    const size_t slash = spec.from_path.find_last_of('/');
    req["files"] = {{spec.from_path.substr(slash == std::string::npos ? 0 : slash + 1), digest}};
  } else {
    req["from"] = spec.from;
  }
  if (spec.has_template) req["template"] = spec.template_text;
  if (spec.has_system) req["system"] = spec.system;
  if (!spec.licenses.empty()) req["license"] = spec.licenses;
  if (!spec.parameters.empty()) req["parameters"] = Json::parse(spec.parameters.dump());
  if (!spec.messages.empty()) {
    req["messages"] = Json::array();
    for (const auto& m : spec.messages) req["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  if (!spec.quantize.empty()) req["quantize"] = spec.quantize;
  if (!spec.requires_version.empty()) req["requires"] = spec.requires_version;
  if (!spec.renderer.empty()) req["renderer"] = spec.renderer;
  if (!spec.parser.empty()) req["parser"] = spec.parser;
  return req;
}

}  // namespace hearth::cli
