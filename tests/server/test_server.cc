#include "test_server.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <sstream>

namespace hearth::testing {

std::string add_fake_model(store::Store& s, const std::string& name, const std::string& content,
                           const std::vector<std::pair<std::string, std::string>>& extra_layers,
                           const std::string& model_family) {
  std::string model_digest = s.put_blob(content);
  store::ModelConfig config;
  config.model_family = model_family;
  config.model_type = "1K";
  config.file_type = "F32";
  std::string config_json = config.to_json();
  std::string config_digest = s.put_blob(config_json);
  store::Manifest m;
  m.config = {store::kConfigMediaType, config_digest, config_json.size(), "", ""};
  m.layers.push_back({store::kMediaModel, model_digest, content.size(), "", ""});
  for (const auto& [media, text] : extra_layers) {
    m.layers.push_back({media, s.put_blob(text), text.size(), "", ""});
  }
  s.write_manifest(store::ModelName::parse(name), m.to_json());
  return s.blob_path(model_digest);
}

std::vector<SseEvent> parse_sse(const std::string& body) {
  std::vector<SseEvent> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    EXPECT_NE(end, std::string::npos) << "unterminated event: " << body.substr(pos);
    if (end == std::string::npos) break;
    std::string ev = body.substr(pos, end - pos);
    pos = end + 2;
    size_t nl = ev.find('\n');
    EXPECT_EQ(ev.rfind("event: ", 0), 0u) << ev;
    EXPECT_NE(nl, std::string::npos) << ev;
    if (nl == std::string::npos) break;
    EXPECT_EQ(ev.compare(nl + 1, 6, "data: "), 0) << ev;
    out.push_back({ev.substr(7, nl - 7), Json::parse(ev.substr(nl + 7))});
  }
  return out;
}

server::ServerConfig TestServer::default_config() {
  server::ServerConfig c;
  c.bind.host = "127.0.0.1";
  c.bind.port = 0;
  c.origins = server::allowed_origins("");
  c.default_num_ctx = 2048;
  return c;
}

TestServer::TestServer(engine::SchedulerOptions sched, server::ServerConfig config_in,
                       std::shared_ptr<FakeWorld> w, std::shared_ptr<engine::ModelLoader> loader)
    : world(std::move(w)), config(std::move(config_in)) {
  char tmpl[] = "/tmp/hearth-server-test-XXXXXX";
  dir = mkdtemp(tmpl);
  store = std::make_shared<store::Store>(dir + "/models");
  if (!loader) loader = std::make_shared<FakeLoader>(world);
  scheduler = std::make_shared<engine::Scheduler>(sched, std::move(loader));
  config.bind.port = 0;
  server = std::make_unique<server::Server>(config, scheduler, store);
  port = server->start_background();
}

void TestServer::restart() {
  server->stop();
  server = std::make_unique<server::Server>(config, scheduler, store);
  port = server->start_background();
}

TestServer::~TestServer() {
  world->open_gate();
  server->stop();
  server.reset();
  scheduler.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

httplib::Client TestServer::client() const {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(30, 0);
  return c;
}

httplib::Result TestServer::post(const std::string& path, const Json& body) const {
  auto c = client();
  return c.Post(path.c_str(), body.dump(), "application/json");
}

std::vector<Json> TestServer::ndjson(const std::string& body) const {
  std::vector<Json> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

}  // namespace hearth::testing
