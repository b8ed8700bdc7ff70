// `hearth ps [prefix]`: the models the server holds (GET /api/ps), as Ollama prints them.
#include <chrono>
#include <cmath>
#include <cstdio>

#include "cli/api_client.h"
#include "cli/format.h"
#include "cli/verb_text.h"
#include "cli/verbs.h"

namespace hearth::cli {

std::string processor_text(int64_t size, int64_t size_vram) {
  if (size_vram == 0) return "100% CPU";
  if (size_vram == size) return "100% GPU";
  if (size_vram > size || size == 0) return "Unknown";
  const auto cpu = static_cast<int>(std::round(static_cast<double>(size - size_vram) / size * 100));
  return std::to_string(cpu) + "%/" + std::to_string(100 - cpu) + "% CPU/GPU";
}

std::string ps_table(const Json& ps, const std::string& prefix,
                     std::chrono::system_clock::time_point now) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : ps.value("models", Json::array())) {
    const std::string name = m.value("name", "");
    if (!prefix.empty() && name.rfind(prefix, 0) != 0) continue;
    const auto expires = parse_rfc3339(m.value("expires_at", ""));
    const std::string until =
        (expires.time_since_epoch().count() != 0 && now > expires) ? "Stopping..."
                                                                   : human_time(expires, now, "Never");
    const int64_t size = m.value("size", int64_t{0});
    rows.push_back({name, m.value("digest", "").substr(0, 12), human_bytes(size),
                    processor_text(size, m.value("size_vram", int64_t{0})),
                    std::to_string(m.value("context_length", 0)), until});
  }
  return format_table({"NAME", "ID", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL"}, rows);
}

void add_ps_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("ps", "List running models");
  auto prefix = std::make_shared<std::string>();
  cmd->add_option("prefix", *prefix, "Only models whose name starts with this");
  cmd->callback([prefix] {
    auto client = client_from_env();
    const std::string table = ps_table(client->get("/api/ps"), *prefix, std::chrono::system_clock::now());
    std::fputs(table.c_str(), stdout);
  });
}

}  // namespace hearth::cli
