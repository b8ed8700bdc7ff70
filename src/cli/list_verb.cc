// `hearth list` / `hearth ls [PREFIX]`: the models in the store, newest first.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/store_progress.h"
#include "cli/connect.h"
#include "cli/run_session.h"
#include "cli/verbs.h"
#include "store/store.h"

namespace hearth::cli {

namespace {

// Ollama's format.HumanTime for a time in the past.
std::string ago(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  if (t.time_since_epoch().count() == 0) return "Never";
  auto d = system_clock::now() - t;
  bool future = d < system_clock::duration::zero();
  if (future) d = -d;
  double secs = duration<double>(d).count();
  int s = static_cast<int>(secs);
  std::string text;
  if (s < 1) {
    text = "Less than a second";
  } else if (s == 1) {
    text = "1 second";
  } else if (s < 60) {
    text = std::to_string(s) + " seconds";
  } else if (s / 60 == 1) {
    text = "About a minute";
  } else if (s / 60 < 60) {
    text = std::to_string(s / 60) + " minutes";
  } else {
    int h = static_cast<int>(secs / 3600 + 0.5);
    if (h == 1) {
      text = "About an hour";
    } else if (h < 48) {
      text = std::to_string(h) + " hours";
    } else if (h < 24 * 7 * 2) {
      text = std::to_string(h / 24) + " days";
    } else if (h < 24 * 30 * 2) {
      text = std::to_string(h / 24 / 7) + " weeks";
    } else if (h < 24 * 365 * 2) {
      text = std::to_string(h / 24 / 30) + " months";
    } else {
      text = std::to_string(static_cast<int>(secs / 3600) / 24 / 365) + " years";
    }
  }
  return text + (future ? " from now" : " ago");
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 4, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

void add_list_verb(CLI::App& app) {
  auto* cmd = app.add_subcommand("list", "List models");
  cmd->alias("ls");
  auto prefix = std::make_shared<std::string>();
  cmd->add_option("PREFIX", *prefix, "Only models whose name starts with this");
  cmd->callback([prefix] {
    if (auto client = running_server()) return (void)std::fputs(list_table(*client, *prefix).c_str(), stdout);
    store::Store st = store::Store::open_default();
    std::vector<std::vector<std::string>> rows = {{"NAME", "ID", "SIZE", "MODIFIED"}};
    for (const auto& e : st.list()) {
      std::string name = e.name.display();
      if (!prefix->empty() && name.rfind(*prefix, 0) != 0) continue;
      rows.push_back({name, e.digest.substr(0, 12), store_human_bytes(e.size), ago(e.modified)});
    }
    std::fputs(table(rows).c_str(), stdout);
  });
}

}  // namespace hearth::cli
