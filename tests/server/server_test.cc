// In-process HTTP tests of the server against the fake model.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <future>
#include <thread>

#include "store/digest.h"
#include "store/manifest.h"
#include "test_server.h"

namespace hearth::testing {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }
  void start(engine::SchedulerOptions sched, server::ServerConfig config = TestServer::default_config()) {
    ts.reset();
    ts = std::make_unique<TestServer>(sched, config);
    model_path = add_fake_model(*ts->store, "fake", "FAKE-GGUF-A");
  }
  std::unique_ptr<TestServer> ts;
  std::string model_path;
};

TEST_F(ServerTest, RootVersionAndUnknownRoutes) {
  auto c = ts->client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "Ollama is running");
  r = c.Head("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/version");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["version"], server::kHearthVersion);
  r = c.Get("/api/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, "404 page not found");
  r = c.Get("/api/generate");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->body, "405 method not allowed");
}

TEST_F(ServerTest, GenerateNonStreamingHasStatsAndContext) {
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type").rfind("application/json", 0), 0u);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["model"], "fake");
  EXPECT_EQ(j["response"], "Hello from the fake model.");
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["done_reason"], "stop");
  // Ollama's context: the rendered prompt and the answer, tokenized without the BOS.
  std::vector<int32_t> expect;
  for (unsigned char ch : std::string("[user]hi\n[assistant]Hello from the fake model.")) expect.push_back(ch);
  EXPECT_EQ(j["context"].get<std::vector<int32_t>>(), expect);
  EXPECT_GT(j["prompt_eval_count"].get<int>(), 0);
  EXPECT_GT(j["eval_count"].get<int>(), 0);
  for (const char* k : {"total_duration", "load_duration", "prompt_eval_duration", "eval_duration"}) {
    EXPECT_TRUE(j[k].is_number_integer()) << k;
  }
  EXPECT_TRUE(j["created_at"].get<std::string>().ends_with("Z"));
}

TEST_F(ServerTest, GenerateStreamsNdjsonWithFinalChunk) {
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"options", {{"num_predict", 3}}}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/x-ndjson");
  auto lines = ts->ndjson(r->body);
  ASSERT_EQ(lines.size(), 4u);  // 3 pieces + final
  std::string text;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["done"], false);
    text += lines[i]["response"].get<std::string>();
  }
  EXPECT_EQ(text, "Hello fro");  // three 3-byte pieces
  EXPECT_EQ(lines.back()["done"], true);
  EXPECT_EQ(lines.back()["done_reason"], "length");
  EXPECT_EQ(lines.back()["response"], "");
  EXPECT_EQ(lines.back()["eval_count"], 3);
}

TEST_F(ServerTest, GenerateBuildsThePromptFromSystemTemplateAndContext) {
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"system", "be brief"},
                                      {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["_debug_info"]["rendered_template"], "[system]be brief\n[user]hi\n[assistant]");
  EXPECT_EQ(ts->world->completes.load(), 0);  // render only: nothing generated

  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "raw text"}, {"raw", true},
                                 {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"], "raw text");

  // `context` is detokenized and prepended.
  std::vector<int> ctx = {'a', 'b'};
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"context", ctx}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"], "ab[user]hi\n[assistant]");
}

TEST_F(ServerTest, ModelfileSystemAndParamsApply) {
  add_fake_model(*ts->store, "withsys:v1", "FAKE-GGUF-B",
                 {{store::kMediaSystem, "model system"}, {store::kMediaParams, R"({"num_predict":2})"}});
  auto r = ts->post("/api/chat", {{"model", "withsys:v1"},
                                  {"messages", Json::array({{{"role", "user"}, {"content", "q"}}})},
                                  {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"], "[system]model system\n[user]q\n[assistant]");
  r = ts->post("/api/chat", {{"model", "withsys:v1"}, {"stream", false},
                             {"messages", Json::array({{{"role", "user"}, {"content", "q"}}})}});
  ASSERT_TRUE(r);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["eval_count"], 2);  // the model's PARAMETER num_predict
  EXPECT_EQ(j["done_reason"], "length");
}

// Stores written by old Ollama versions keep the template in a layer of the legacy media type
// application/vnd.ollama.image.prompt; generation must use it like a template layer.
TEST_F(ServerTest, LegacyPromptLayerIsTheTemplate) {
  add_fake_model(*ts->store, "old:v1", "FAKE-GGUF-C", {{store::kMediaPrompt, "LEGACY {{ .Prompt }}"}});
  auto r = ts->post("/api/generate", {{"model", "old:v1"}, {"prompt", "hi"}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"], "{tmpl:LEGACY {{ .Prompt }}}[user]hi\n[assistant]");
  // As in Ollama's GetModel, the later of the two layers wins.
  add_fake_model(*ts->store, "both:v1", "FAKE-GGUF-C",
                 {{store::kMediaPrompt, "LEGACY"}, {store::kMediaTemplate, "NEW {{ .Prompt }}"}});
  r = ts->post("/api/generate", {{"model", "both:v1"}, {"prompt", "hi"}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"], "{tmpl:NEW {{ .Prompt }}}[user]hi\n[assistant]");
}

TEST_F(ServerTest, ChatSplitsThinkingAndToolCalls) {
  ts->world->thinking = true;
  ts->world->reply = "  <think>let me see</think>\n\nSunny. <tool_call>{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\"}}</tool_call>";
  Json tools = Json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}});
  Json body = {{"model", "fake"}, {"messages", Json::array({{{"role", "user"}, {"content", "weather?"}}})},
               {"tools", tools}, {"stream", false}};
  auto r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["message"]["role"], "assistant");
  EXPECT_EQ(j["message"]["thinking"], "let me see");
  EXPECT_EQ(j["message"]["content"], "Sunny. ");
  ASSERT_EQ(j["message"]["tool_calls"].size(), 1u);
  EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["name"], "get_weather");
  EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["arguments"]["city"], "Paris");
  EXPECT_EQ(j["message"]["tool_calls"][0]["id"].get<std::string>().rfind("call_", 0), 0u);

  body["stream"] = true;
  r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  auto lines = ts->ndjson(r->body);
  std::string thinking, content;
  int calls = 0;
  for (const auto& l : lines) {
    if (l["done"] == true) {
      EXPECT_EQ(l["message"]["content"], "");
      EXPECT_EQ(l["done_reason"], "stop");
      EXPECT_FALSE(l.contains("context"));
      continue;
    }
    if (l["message"].contains("thinking")) thinking += l["message"]["thinking"].get<std::string>();
    content += l["message"]["content"].get<std::string>();
    if (l["message"].contains("tool_calls")) calls += static_cast<int>(l["message"]["tool_calls"].size());
  }
  EXPECT_EQ(thinking, "let me see");
  EXPECT_EQ(content, "Sunny. ");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(lines.back()["done"], true);

  // think:false: no thinking field, the tags stay in the content.
  body["stream"] = false;
  body["think"] = false;
  r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  j = Json::parse(r->body);
  EXPECT_FALSE(j["message"].contains("thinking"));
}

TEST_F(ServerTest, ChatHistoryWithToolResultsRenders) {
  Json msgs = Json::array({
      {{"role", "user"}, {"content", "weather?"}},
      {{"role", "assistant"}, {"content", ""},
       {"tool_calls", Json::array({{{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}})}},
      {{"role", "tool"}, {"content", "sunny"}, {"tool_name", "get_weather"}},
  });
  auto r = ts->post("/api/chat", {{"model", "fake"}, {"messages", msgs}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["_debug_info"]["rendered_template"],
            "[user]weather?\n[assistant]<call get_weather {\"city\":\"Paris\"}>\n[tool]sunny\n[assistant]");
}

TEST_F(ServerTest, ValidationErrorsAre400WithReasons) {
  auto c = ts->client();
  auto r = c.Post("/api/generate", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "missing request body");
  r = c.Post("/api/generate", "{not json", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(Json::parse(r->body)["error"].get<std::string>().find("invalid JSON"), std::string::npos);

  auto expect400 = [&](const Json& body, const std::string& message, const char* path = "/api/generate") {
    auto res = ts->post(path, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body.dump();
    EXPECT_EQ(Json::parse(res->body)["error"], message) << body.dump();
  };
  expect400({{"model", "fake"}, {"prompt", "x"}, {"raw", true}, {"system", "s"}},
            "raw mode does not support template, system, or context");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"think", "hot"}}, "invalid think value");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"think", true}}, "\"fake\" does not support thinking");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"options", {{"top_k", "many"}}}},
            "option \"top_k\" must be of type integer");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"top_logprobs", 21}}, "top_logprobs must be between 0 and 20");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"keep_alive", "-1"}}, "time: invalid duration \"-1\"");
  expect400({{"model", "fake"}, {"prompt", "x"}, {"format", 5}},
            "invalid format: 5; expected \"json\" or a valid JSON Schema object");
  expect400({{"model", "fake"}, {"prompt", 5}}, "invalid value for field \"prompt\": expected a string");
  expect400({{"model", "bad name!"}, {"prompt", "x"}}, "invalid model name");
  expect400({{"prompt", "x"}}, "model is required");

  // Unknown options (removed in Ollama, still sent by clients) are accepted and ignored.
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false},
                                 {"options", {{"mirostat", 2}, {"tfs_z", 1.0}, {"penalize_newline", true}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;

  r = ts->post("/api/generate", {{"model", "missing"}, {"prompt", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"], "model 'missing' not found");
}

TEST_F(ServerTest, EmptyPromptLoadsAndKeepAliveZeroUnloads) {
  auto r = ts->post("/api/generate", {{"model", "fake"}});
  ASSERT_TRUE(r);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["done"], true);
  EXPECT_EQ(j["done_reason"], "load");
  EXPECT_EQ(ts->world->loads.load(), 1);
  auto c = ts->client();
  auto ps = c.Get("/api/ps");
  ASSERT_TRUE(ps);
  Json models = Json::parse(ps->body)["models"];
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], "fake:latest");
  EXPECT_EQ(models[0]["context_length"], 2048);
  EXPECT_EQ(models[0]["size"], 1000);
  EXPECT_EQ(models[0]["size_vram"], 0);
  EXPECT_TRUE(models[0]["expires_at"].is_string());

  r = ts->post("/api/chat", {{"model", "fake"}, {"messages", Json::array()}, {"keep_alive", 0}});
  ASSERT_TRUE(r);
  j = Json::parse(r->body);
  EXPECT_EQ(j["done_reason"], "unload");
  EXPECT_EQ(j["message"]["role"], "assistant");
  EXPECT_TRUE(eventually([&] { return ts->scheduler->loaded().empty(); }));
  EXPECT_EQ(ts->world->unloads.load(), 1);
}

// A model partly on a GPU reports those bytes as size_vram; the request's num_gpu option reaches
// the load.
TEST_F(ServerTest, PsReportsGpuMemoryAndNumGpuReachesTheLoad) {
  {
    std::lock_guard<std::mutex> lk(ts->world->mu);
    ts->world->vram_default = 410;
    ts->world->load_specs.clear();
  }
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"options", {{"num_gpu", 7}}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  {
    std::lock_guard<std::mutex> lk(ts->world->mu);
    ASSERT_FALSE(ts->world->load_specs.empty());
    EXPECT_EQ(ts->world->load_specs.back().num_gpu, 7);
  }
  auto ps = ts->client().Get("/api/ps");
  ASSERT_TRUE(ps);
  const Json m = Json::parse(ps->body)["models"][0];
  EXPECT_EQ(m["size_vram"], 410);
  EXPECT_EQ(m["size"], 1000);
}

TEST_F(ServerTest, KeepAliveExpiryUnloads) {
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}, {"keep_alive", "150ms"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(eventually([&] { return ts->world->unloads.load() == 1; }));
  EXPECT_TRUE(ts->scheduler->loaded().empty());

  // Negative keeps it forever; numbers are seconds.
  r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}, {"keep_alive", -1}});
  ASSERT_TRUE(r);
  auto loaded = ts->scheduler->loaded();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_TRUE(loaded[0].forever);
}

TEST_F(ServerTest, LeastRecentlyUsedModelIsUnloadedFirst) {
  engine::SchedulerOptions o;
  o.max_loaded = 2;
  start(o);
  add_fake_model(*ts->store, "b", "FAKE-GGUF-B");
  add_fake_model(*ts->store, "c", "FAKE-GGUF-C");
  for (const char* m : {"fake", "b", "fake", "c"}) {
    auto r = ts->post("/api/generate", {{"model", m}, {"prompt", "x"}, {"stream", false}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << m;
  }
  std::vector<std::string> names;
  for (const auto& l : ts->scheduler->loaded()) names.push_back(l.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"c:latest", "fake:latest"}));  // b was least recent
  EXPECT_EQ(ts->world->unloads.load(), 1);
}

TEST_F(ServerTest, MemoryBudgetEvictsIdleModels) {
  engine::SchedulerOptions o;
  o.memory_budget = 1500;  // each fake model is 1000 bytes: only one fits
  start(o);
  add_fake_model(*ts->store, "b", "FAKE-GGUF-B");
  ASSERT_EQ(ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}})->status, 200);
  ASSERT_EQ(ts->post("/api/generate", {{"model", "b"}, {"prompt", "x"}, {"stream", false}})->status, 200);
  auto loaded = ts->scheduler->loaded();
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].name, "b:latest");
}

TEST_F(ServerTest, FullQueueGets503) {
  engine::SchedulerOptions o;
  o.max_queue = 1;
  start(o);
  ts->world->gate_closed = true;  // the first request holds the only slot
  auto first = std::async(std::launch::async, [&] {
    return ts->post("/api/generate", {{"model", "fake"}, {"prompt", "1"}, {"stream", false}});
  });
  ASSERT_TRUE(eventually([&] { return ts->world->active.load() == 1; }));
  auto second = std::async(std::launch::async, [&] {
    return ts->post("/api/generate", {{"model", "fake"}, {"prompt", "2"}, {"stream", false}});
  });
  ASSERT_TRUE(eventually([&] { return ts->scheduler->queue_depth() == 1; }));
  auto third = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "3"}, {"stream", false}});
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(Json::parse(third->body)["error"],
            "server busy, please try again.  maximum pending requests exceeded");
  ts->world->open_gate();
  auto r1 = first.get();
  auto r2 = second.get();
  ASSERT_TRUE(r1);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r2->status, 200);
  EXPECT_EQ(ts->world->max_active.load(), 1);  // HEARTH_NUM_PARALLEL=1: one at a time
}

TEST_F(ServerTest, ParallelSlotsRunTogether) {
  server::ServerConfig c = TestServer::default_config();
  c.num_parallel = 3;
  start({}, c);
  ts->world->gate_closed = true;
  std::vector<std::future<httplib::Result>> reqs;
  for (int i = 0; i < 4; ++i) {
    reqs.push_back(std::async(std::launch::async, [&] {
      return ts->post("/api/generate", {{"model", "fake"}, {"prompt", "p"}, {"stream", false}});
    }));
  }
  ASSERT_TRUE(eventually([&] { return ts->world->active.load() == 3 && ts->scheduler->queue_depth() == 1; }));
  ts->world->open_gate();
  for (auto& f : reqs) {
    auto r = f.get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(ts->world->max_active.load(), 3);
}

// Reads `lines` NDJSON lines of a streamed request, then drops the connection.
void read_then_disconnect(int port, const std::string& path, const Json& body, int lines) {
  httplib::Client c("127.0.0.1", port);
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.body = body.dump();
  req.set_header("Content-Type", "application/json");
  int seen = 0;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    for (size_t i = 0; i < n; ++i) seen += data[i] == '\n';
    return seen < lines;
  };
  c.send(req);
}

TEST_F(ServerTest, ClientDisconnectCancelsAndFreesTheSlot) {
  ts->world->endless = true;
  ts->world->piece_delay_ms = 2;
  read_then_disconnect(ts->port, "/api/generate", {{"model", "fake"}, {"prompt", "go"}}, 3);
  ASSERT_TRUE(eventually([&] { return ts->world->cancels.load() == 1; }));
  ASSERT_TRUE(eventually([&] {
    auto l = ts->scheduler->loaded();
    return l.size() == 1 && l[0].active == 0;
  }));
  // The slot is free for the next request.
  ts->world->endless = false;
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, ClientThatLeavesTheQueueIsDropped) {
  ts->world->gate_closed = true;
  auto holder = std::async(std::launch::async, [&] {
    return ts->post("/api/generate", {{"model", "fake"}, {"prompt", "1"}, {"stream", false}});
  });
  ASSERT_TRUE(eventually([&] { return ts->world->active.load() == 1; }));
  {
    httplib::Client c("127.0.0.1", ts->port);
    c.set_read_timeout(0, 300000);  // give up while queued
    auto r = c.Post("/api/generate", Json{{"model", "fake"}, {"prompt", "2"}}.dump(), "application/json");
    EXPECT_FALSE(r);
  }
  EXPECT_TRUE(eventually([&] { return ts->scheduler->queue_depth() == 0; }));
  ts->world->open_gate();
  ASSERT_TRUE(holder.get());
  EXPECT_EQ(ts->world->completes.load(), 1);  // the one that left never ran
}

TEST_F(ServerTest, CorsPreflightAndOrigins) {
  auto c = ts->client();
  httplib::Headers h = {{"Origin", "http://localhost:3000"},
                        {"Access-Control-Request-Method", "POST"},
                        {"Access-Control-Request-Headers", "content-type,x-stainless-os"}};
  auto r = c.Options("/api/chat", h);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 204);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "http://localhost:3000");
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Headers").find("x-stainless-os"), std::string::npos);
  EXPECT_NE(r->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);

  r = c.Get("/api/tags", {{"Origin", "app://obsidian.md"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Access-Control-Allow-Origin"), "app://obsidian.md");

  r = c.Get("/api/tags", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);

  server::ServerConfig config = TestServer::default_config();
  config.origins = server::allowed_origins("https://evil.example, chrome-extension://*");
  start({}, config);
  auto c2 = ts->client();
  r = c2.Get("/api/tags", {{"Origin", "https://evil.example"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c2.Get("/api/tags", {{"Origin", "chrome-extension://abc"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, HostHeaderCheckOnLoopback) {
  auto c = ts->client();
  for (const char* ok : {"localhost:11434", "127.0.0.1", "192.168.1.5:80", "box.local", "x.localhost", "[::1]:1"}) {
    auto r = c.Get("/api/version", {{"Host", ok}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << ok;
  }
  for (const char* bad : {"evil.example", "evil.example:11434", "8.8.8.8"}) {
    auto r = c.Get("/api/version", {{"Host", bad}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403) << bad;
  }
}

TEST_F(ServerTest, ApiKeyRequiredWhenSet) {
  server::ServerConfig config = TestServer::default_config();
  config.api_key = "s3cret";
  start({}, config);
  auto c = ts->client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/tags");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/tags", {{"Authorization", "Bearer wrong"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/tags", {{"Authorization", "Bearer s3cret"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, BodyLimit) {
  server::ServerConfig config = TestServer::default_config();
  config.max_body_bytes = 1024;
  start({}, config);
  std::string big(4096, 'x');
  auto c = ts->client();
  auto r = c.Post("/api/generate", Json{{"model", "fake"}, {"prompt", big}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
}

// A mixture of experts' /api/show: model_info carries the expert counts under the architecture's
// own keys, as Ollama's does (issue 14), read from the shared deepseek2 fixture.
TEST_F(ServerTest, ShowReportsTheExpertCountsOfAMixtureOfExperts) {
  std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/deepseek2-tiny-q8_0.gguf", std::ios::binary);
  std::string gguf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(gguf.empty());
  add_fake_model(*ts->store, "deepseek-tiny", gguf);
  auto r = ts->post("/api/show", {{"model", "deepseek-tiny"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const Json info = Json::parse(r->body)["model_info"];
  EXPECT_EQ(info["general.architecture"], "deepseek2");
  EXPECT_EQ(info["deepseek2.expert_count"], 8);
  EXPECT_EQ(info["deepseek2.expert_used_count"], 2);
  EXPECT_EQ(info["deepseek2.expert_shared_count"], 1);
  EXPECT_EQ(info["deepseek2.expert_feed_forward_length"], 32);
  ASSERT_TRUE(info.contains("tokenizer.ggml.tokens"));
  EXPECT_TRUE(info["tokenizer.ggml.tokens"].empty());  // arrays longer than 5 emptied, as Ollama's
}

TEST_F(ServerTest, TagsShowCopyDelete) {
  auto c = ts->client();
  auto r = c.Get("/api/tags");
  ASSERT_TRUE(r);
  Json models = Json::parse(r->body)["models"];
  ASSERT_EQ(models.size(), 1u);
  EXPECT_EQ(models[0]["name"], "fake:latest");
  EXPECT_EQ(models[0]["details"]["family"], "fake");
  EXPECT_EQ(models[0]["digest"].get<std::string>().size(), 64u);

  // /api/show reads the GGUF's metadata: give this model a real file.
  std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/stories260K.gguf", std::ios::binary);
  std::string gguf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(gguf.empty());
  add_fake_model(*ts->store, "storied", gguf, {{store::kMediaParams, R"({"stop":["a","b"],"temperature":0.5})"}});
  r = ts->post("/api/show", {{"model", "storied"}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json show = Json::parse(r->body);
  EXPECT_EQ(show["details"]["quantization_level"], "F32");
  EXPECT_EQ(show["model_info"]["general.architecture"], "llama");
  EXPECT_NE(show["parameters"].get<std::string>().find("temperature"), std::string::npos);
  r = ts->post("/api/show", {{"model", "nope"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(show["modelfile"].get<std::string>().rfind("# Modelfile generated by", 0), 0u);
  EXPECT_TRUE(show["capabilities"].is_array());
  r = ts->post("/api/show", Json::object());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "model is required");

  r = ts->post("/api/copy", {{"source", "fake"}, {"destination", "alias:v2"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");
  r = ts->post("/api/copy", {{"source", "nope"}, {"destination", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->body, R"({"error":"model \"nope\" not found"})");  // Go's %q of the request's name
  r = ts->post("/api/copy", {{"source", "Nope:Tag"}, {"destination", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["error"], "model \"Nope:Tag\" not found");
  r = ts->post("/api/copy", {{"source", "bad name\t\"q\""}, {"destination", "x"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], R"(source "bad name\t\"q\"" is invalid)");
  r = ts->post("/api/copy", {{"source", "fake"}, {"destination", "x y"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], R"(destination "x y" is invalid)");
  r = ts->post("/api/copy", Json::object());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], R"(source "" is invalid)");

  r = c.Delete("/api/delete", Json{{"model", "alias:v2"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Delete("/api/delete", Json{{"model", "alias:v2"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);

  // Adapters are refused in the words a Modelfile's ADAPTER gets (store::create_model's).
  r = ts->post("/api/create", {{"model", "with-lora"}, {"from", "fake"}, {"adapters", {{"a.gguf", "sha256:" + std::string(64, '0')}}},
                               {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["error"], "ADAPTER (LoRA) models are not supported yet") << r->body;
}

// Ollama prunes at start-up (unless OLLAMA_NOPRUNE): blobs no manifest names and the temp files
// of writers that died are deleted; every blob a model uses stays.
TEST_F(ServerTest, StartUpPrunesUnusedBlobsUnlessNoPrune) {
  std::string orphan = ts->store->put_blob("bytes no manifest names");
  std::string dead_temp = ts->store->blobs_dir() + "/sha256-abc.tmp-1-2";
  std::ofstream(dead_temp) << "junk";
  unsetenv("OLLAMA_NOPRUNE");
  setenv("HEARTH_NOPRUNE", "1", 1);
  ts->restart();
  EXPECT_TRUE(ts->store->has_blob(orphan));
  EXPECT_TRUE(std::filesystem::exists(dead_temp));

  setenv("OLLAMA_NOPRUNE", "true", 1);  // the fallback name works too
  unsetenv("HEARTH_NOPRUNE");
  ts->restart();
  EXPECT_TRUE(ts->store->has_blob(orphan));

  unsetenv("OLLAMA_NOPRUNE");
  ts->restart();
  EXPECT_FALSE(ts->store->has_blob(orphan));
  EXPECT_FALSE(std::filesystem::exists(dead_temp));
  EXPECT_TRUE(std::filesystem::exists(model_path));
  auto r = ts->post("/api/generate", {{"model", "fake"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
}

TEST_F(ServerTest, BlobsHeadAndUpload) {
  auto c = ts->client();
  std::string data = "some blob bytes";
  std::string digest = store::sha256_digest(data);
  auto r = c.Head(("/api/blobs/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  r = c.Head("/api/blobs/sha256:xyz");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  std::string wrong = store::sha256_digest("other");
  r = c.Post(("/api/blobs/" + wrong).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("digest mismatch"), std::string::npos);
  r = c.Post(("/api/blobs/" + digest).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  r = c.Head(("/api/blobs/" + digest).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = c.Post(("/api/blobs/" + digest).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerTest, OpenAIChatCompletions) {
  ts->world->thinking = true;
  ts->world->reply = "<think>hmm</think>Answer.";
  Json body = {{"model", "fake"}, {"messages", Json::array({{{"role", "user"}, {"content", "q"}}})}};
  auto r = ts->post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(j["choices"][0]["message"]["content"], "Answer.");
  EXPECT_EQ(j["choices"][0]["message"]["reasoning"], "hmm");
  EXPECT_EQ(j["choices"][0]["message"]["reasoning_content"], "hmm");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["total_tokens"].get<int>(),
            j["usage"]["prompt_tokens"].get<int>() + j["usage"]["completion_tokens"].get<int>());

  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  r = ts->post("/v1/chat/completions", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/event-stream");
  std::vector<std::string> events;
  size_t pos = 0;
  while (true) {
    size_t end = r->body.find("\n\n", pos);
    if (end == std::string::npos) break;
    std::string ev = r->body.substr(pos, end - pos);
    ASSERT_EQ(ev.rfind("data: ", 0), 0u) << ev;
    events.push_back(ev.substr(6));
    pos = end + 2;
  }
  ASSERT_GE(events.size(), 5u);
  EXPECT_EQ(events.back(), "[DONE]");
  Json first = Json::parse(events[0]);
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  Json usage = Json::parse(events[events.size() - 2]);
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_GT(usage["usage"]["completion_tokens"].get<int>(), 0);
  Json finish = Json::parse(events[events.size() - 3]);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(finish["choices"][0]["delta"].empty());
  std::string reasoning, content;
  int64_t created = first["created"];
  for (size_t i = 1; i + 3 < events.size(); ++i) {
    Json e = Json::parse(events[i]);
    EXPECT_EQ(e["created"], created);
    const Json& d = e["choices"][0]["delta"];
    if (d.contains("reasoning")) reasoning += d["reasoning"].get<std::string>();
    content += d["content"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "hmm");
  EXPECT_EQ(content, "Answer.");
}

TEST_F(ServerTest, OpenAIToolCallsAndErrors) {
  ts->world->reply = "<tool_call>{\"name\":\"f\",\"arguments\":{\"a\":1}}</tool_call>";
  Json tools = Json::array({{{"type", "function"}, {"function", {{"name", "f"}}}}});
  auto r = ts->post("/v1/chat/completions", {{"model", "fake"}, {"tools", tools},
                                             {"messages", Json::array({{{"role", "user"}, {"content", "q"}}})}});
  ASSERT_TRUE(r);
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
  const Json& call = j["choices"][0]["message"]["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["function"]["name"], "f");
  EXPECT_EQ(call["function"]["arguments"], "{\"a\":1}");

  r = ts->post("/v1/chat/completions", {{"model", "fake"}, {"messages", Json::array()}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  j = Json::parse(r->body);
  EXPECT_EQ(j["error"]["message"], "[] is too short - 'messages'");
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_TRUE(j["error"]["param"].is_null());

  r = ts->post("/v1/chat/completions", {{"model", "nope"}, {"messages", Json::array({{{"role", "user"}, {"content", "q"}}})}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Json::parse(r->body)["error"]["type"], "not_found_error");
}

TEST_F(ServerTest, OpenAICompletionsAndModels) {
  auto r = ts->post("/v1/completions", {{"model", "fake"}, {"prompt", "once"}, {"max_tokens", 2}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "text_completion");
  EXPECT_EQ(j["choices"][0]["text"], "Hello ");
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");

  r = ts->post("/v1/completions", {{"model", "fake"}, {"prompt", "once"}, {"stream", true}});
  ASSERT_TRUE(r);
  EXPECT_NE(r->body.find("data: [DONE]"), std::string::npos);
  EXPECT_NE(r->body.find("\"finish_reason\":\"stop\""), std::string::npos);

  auto c = ts->client();
  r = c.Get("/v1/models");
  ASSERT_TRUE(r);
  j = Json::parse(r->body);
  EXPECT_EQ(j["object"], "list");
  ASSERT_EQ(j["data"].size(), 1u);
  EXPECT_EQ(j["data"][0]["id"], "fake:latest");
  EXPECT_EQ(j["data"][0]["owned_by"], "library");
  r = c.Get("/v1/models/fake:latest");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["id"], "fake:latest");
}

TEST_F(ServerTest, MetricsInPrometheusFormat) {
  ASSERT_EQ(ts->post("/api/generate", {{"model", "fake"}, {"prompt", "x"}, {"stream", false}})->status, 200);
  auto c = ts->client();
  // A request is counted when its access-log line is written, just after its response: poll.
  std::string body;
  EXPECT_TRUE(eventually([&] {
    auto res = c.Get("/metrics");
    body = res ? res->body : "";
    return body.find("hearth_requests_total{method=\"POST\",path=\"/api/generate\",status=\"200\"} 1") !=
           std::string::npos;
  }));
  EXPECT_NE(body.find("hearth_generated_tokens_total 9"), std::string::npos) << body;
  EXPECT_NE(body.find("hearth_loaded_models 1"), std::string::npos);
  EXPECT_NE(body.find("hearth_queue_depth 0"), std::string::npos);
}

}  // namespace
}  // namespace hearth::testing
