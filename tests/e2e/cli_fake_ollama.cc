#include "cli_fake_ollama.h"

#include <chrono>

namespace hearth::test {

using nlohmann::json;

std::string FakeOllama::canonical(std::string name) {
  return name.find(':') == std::string::npos ? name + ":latest" : name;
}

namespace {
void reply_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}
void stream_lines(httplib::Response& res, std::vector<json> lines) {
  res.set_chunked_content_provider("application/x-ndjson",
                                   [lines](size_t, httplib::DataSink& sink) {
                                     for (const auto& l : lines) {
                                       const std::string s = l.dump() + "\n";
                                       if (!sink.write(s.data(), s.size())) return false;
                                     }
                                     sink.done();
                                     return true;
                                   });
}
json stats() {
  return {{"total_duration", 1'500'000'000}, {"load_duration", 1'000'000},
          {"prompt_eval_count", 12},         {"prompt_eval_duration", 60'000'000},
          {"eval_count", 4},                 {"eval_duration", 200'000'000}};
}
}  // namespace

FakeOllama::FakeOllama() {
  srv_.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("Ollama is running", "text/plain");
  });
  srv_.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, {{"version", "0.0.0-fake"}});
  });
  srv_.Get("/api/tags", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lk(mu);
    json list = json::array();
    for (const auto& m : models) {
      list.push_back({{"name", m}, {"model", m}, {"size", 3'300'000},
                      {"digest", "0123456789abcdef0123456789abcdef"},
                      {"modified_at", "2020-01-01T00:00:00Z"}});
    }
    reply_json(res, {{"models", list}});
  });
  srv_.Get("/api/ps", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, {{"models", json::array({{{"name", "m:latest"}, {"digest", "abcdef0123456789"},
                                              {"size", 2'000'000'000}, {"size_vram", 0},
                                              {"context_length", 4096},
                                              {"expires_at", "2999-01-01T00:00:00Z"}}})}});
  });
  srv_.Post("/api/show", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body);
    const std::string name = canonical(j.value("model", ""));
    std::lock_guard<std::mutex> lk(mu);
    if (!models.count(name)) {
      reply_json(res, {{"error", "model '" + j.value("model", "") + "' not found"}}, 404);
      return;
    }
    json caps = json::array({"completion"});
    if (name == "thinker:latest") caps.push_back("thinking");
    reply_json(res, {{"modelfile", "FROM " + name + "\n"},
                     {"parameters", "temperature 0.7"},
                     {"template", "{{ .Prompt }}"},
                     {"details", {{"parent_model", ""}, {"family", "llama"},
                                  {"parameter_size", "260K"}, {"quantization_level", "F32"}}},
                     {"model_info", {{"general.architecture", "llama"},
                                     {"llama.context_length", 512}}},
                     {"capabilities", caps}});
  });
  srv_.Post("/api/chat", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body);
    {
      std::lock_guard<std::mutex> lk(mu);
      chats.push_back(j);
    }
    std::string last;
    for (const auto& m : j["messages"]) {
      if (m.value("role", "") == "user") last = m.value("content", "");
    }
    if (last.find("slow") != std::string::npos) {
      res.set_chunked_content_provider("application/x-ndjson", [this](size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 6000; ++i) {  // bounded: ten minutes at most
          const std::string s =
              json{{"message", {{"role", "assistant"}, {"content", "tick "}}}, {"done", false}}.dump() + "\n";
          if (!sink.write(s.data(), s.size())) {
            slow_client_gone = true;
            return false;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        sink.done();
        return true;
      });
      return;
    }
    std::vector<json> lines;
    if (j.value("think", json()) == true) {
      lines.push_back({{"message", {{"role", "assistant"}, {"content", ""}, {"thinking", "Pondering."}}}});
    }
    const std::string answer = "You said: " + last;
    for (size_t i = 0; i < answer.size(); i += 4) {
      lines.push_back({{"message", {{"role", "assistant"}, {"content", answer.substr(i, 4)}}}, {"done", false}});
    }
    json done = {{"message", {{"role", "assistant"}, {"content", ""}}}, {"done", true}, {"done_reason", "stop"}};
    done.update(stats());
    lines.push_back(done);
    stream_lines(res, lines);
  });
  srv_.Post("/api/generate", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body);
    {
      std::lock_guard<std::mutex> lk(mu);
      generates.push_back(j);
      if (!models.count(canonical(j.value("model", "")))) {
        reply_json(res, {{"error", "model '" + j.value("model", "") + "' not found"}}, 404);
        return;
      }
    }
    json done = {{"response", ""}, {"done", true}, {"done_reason", "stop"}};
    if (j.value("prompt", "").empty()) {
      stream_lines(res, {done});
      return;
    }
    done.update(stats());
    stream_lines(res, {{{"response", "Ans"}, {"done", false}}, {{"response", "wer."}, {"done", false}}, done});
  });
  srv_.Post("/api/pull", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body);
    {
      std::lock_guard<std::mutex> lk(mu);
      models.insert(canonical(j.value("model", "")));
    }
    stream_lines(res, {{{"status", "pulling manifest"}},
                       {{"status", "pulling 0123456789ab"}, {"digest", "sha256:0123456789ab"}, {"total", 2000}, {"completed", 0}},
                       {{"status", "pulling 0123456789ab"}, {"digest", "sha256:0123456789ab"}, {"total", 2000}, {"completed", 1000}},
                       {{"status", "pulling 0123456789ab"}, {"digest", "sha256:0123456789ab"}, {"total", 2000}, {"completed", 2000}},
                       {{"status", "verifying sha256 digest"}},
                       {{"status", "writing manifest"}},
                       {{"status", "success"}}});
  });
  srv_.Post("/api/create", [this](const httplib::Request& req, httplib::Response& res) {
    const json j = json::parse(req.body);
    const std::string name = j.value("model", "");
    if (name.find("//") != std::string::npos) {
      reply_json(res, {{"error", "invalid model name"}}, 400);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu);
      creates.push_back(j);
      models.insert(canonical(name));
    }
    stream_lines(res, {{{"status", "using existing layer sha256:aa"}}, {{"status", "writing manifest"}}, {{"status", "success"}}});
  });
  port_ = srv_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { srv_.listen_after_bind(); });
  while (!srv_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

FakeOllama::~FakeOllama() {
  srv_.stop();
  thread_.join();
}

}  // namespace hearth::test
