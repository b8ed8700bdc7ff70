// gpt-oss's harmony format through the server: a fake model whose manifest says model_family
// "gptoss" and whose TEMPLATE is Ollama's gpt-oss template (tests/chat/goldens) gets the
// production harmony rendering and parser (engine/chat_format.h), as Ollama's shouldUseHarmony
// picks them. What is checked is the API glue: `think` levels and OpenAI `reasoning_effort` reach
// the "Reasoning:" line, tool names are renamed and renamed back, analysis/final/commentary come
// out as thinking/content/tool_calls on /api/chat, /api/generate and /v1/chat/completions, the run
// asks for control tokens as text, and a model outside the family keeps Ollama's think rules.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_server.h"

namespace hearth::testing {
namespace {

std::string ollama_gpt_oss_template() {
  std::ifstream f(std::string(HEARTH_SOURCE_DIR) + "/tests/chat/goldens/ollama-gpt-oss.gotmpl", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* const kReply =
    "<|channel|>analysis<|message|>User greets. Reply briefly.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Hello! How can I help?";

class HarmonyServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ts = std::make_unique<TestServer>();
    ts->world->thinking = true;  // as the engine says for the gpt-oss family
    ts->world->reply = kReply;
    add_fake_model(*ts->store, "gpt-oss:20b", "GGUF-gptoss", {{store::kMediaTemplate, ollama_gpt_oss_template()}},
                   "gptoss");
    add_fake_model(*ts->store, "plain", "GGUF-plain");
  }

  Json user(const std::string& text) { return Json::array({{{"role", "user"}, {"content", text}}}); }

  std::string rendered_chat(Json body) {
    body["_debug_render_only"] = true;
    auto r = ts->post("/api/chat", body);
    EXPECT_TRUE(r);
    if (!r) return "";
    EXPECT_EQ(r->status, 200) << r->body;
    return Json::parse(r->body)["_debug_info"]["rendered_template"].get<std::string>();
  }

  std::unique_ptr<TestServer> ts;
};

TEST_F(HarmonyServerTest, ThinkLevelsBecomeTheReasoningLine) {
  Json body = {{"model", "gpt-oss:20b"}, {"messages", user("hi")}};
  // Omitted: a thinking model defaults to on, at medium.
  EXPECT_NE(rendered_chat(body).find("\n\nReasoning: medium\n\n# Valid channels"), std::string::npos);
  for (const char* level : {"low", "medium", "high"}) {
    body["think"] = level;
    EXPECT_NE(rendered_chat(body).find(std::string("\n\nReasoning: ") + level + "\n\n# Valid"), std::string::npos)
        << level;
  }
  body["think"] = "max";  // above harmony's scale: high, as Ollama maps it
  EXPECT_NE(rendered_chat(body).find("\n\nReasoning: high\n\n# Valid"), std::string::npos);
  body["think"] = true;
  EXPECT_NE(rendered_chat(body).find("\n\nReasoning: medium\n\n# Valid"), std::string::npos);
  body["think"] = false;  // no Reasoning line at all
  const std::string off = rendered_chat(body);
  EXPECT_EQ(off.find("Reasoning:"), std::string::npos) << off;
  EXPECT_NE(off.find("Current date: "), std::string::npos) << off;
  EXPECT_EQ(off.substr(off.size() - std::string("<|start|>user<|message|>hi<|end|><|start|>assistant").size()),
            "<|start|>user<|message|>hi<|end|><|start|>assistant");

  // /api/generate renders the same way.
  auto r = ts->post("/api/generate",
                    {{"model", "gpt-oss:20b"}, {"prompt", "hi"}, {"think", "low"}, {"_debug_render_only", true}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(Json::parse(r->body)["_debug_info"]["rendered_template"].get<std::string>().find("Reasoning: low"),
            std::string::npos);
}

TEST_F(HarmonyServerTest, ChatSplitsAnalysisAndFinal) {
  Json body = {{"model", "gpt-oss:20b"}, {"messages", user("hi")}, {"stream", false}, {"think", "high"}};
  auto r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["message"]["thinking"], "User greets. Reply briefly.");
  EXPECT_EQ(j["message"]["content"], "Hello! How can I help?");
  EXPECT_TRUE(ts->world->last_render_special);  // the parser needs <|channel|> and friends
  EXPECT_NE(ts->world->last_prompt.find("Reasoning: high"), std::string::npos);

  // Streamed in 3-byte pieces (markers split everywhere): the same split.
  body["stream"] = true;
  r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  std::string thinking, content;
  for (const auto& l : ts->ndjson(r->body)) {
    ASSERT_FALSE(l.contains("error")) << l.dump();
    if (l["message"].contains("thinking")) thinking += l["message"]["thinking"].get<std::string>();
    content += l["message"]["content"].get<std::string>();
  }
  EXPECT_EQ(thinking, "User greets. Reply briefly.");
  EXPECT_EQ(content, "Hello! How can I help?");

  // think:false: gpt-oss reasons anyway, and Ollama's parser still reports it as thinking.
  body["stream"] = false;
  body["think"] = false;
  r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  j = Json::parse(r->body);
  EXPECT_EQ(j["message"]["thinking"], "User greets. Reply briefly.");
  EXPECT_EQ(j["message"]["content"], "Hello! How can I help?");
}

TEST_F(HarmonyServerTest, GenerateSplitsThinkingToo) {
  auto r = ts->post("/api/generate", {{"model", "gpt-oss:20b"}, {"prompt", "hi"}, {"stream", false}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["thinking"], "User greets. Reply briefly.");
  EXPECT_EQ(j["response"], "Hello! How can I help?");
}

TEST_F(HarmonyServerTest, ToolsAreRenamedForTheModelAndBackForTheClient) {
  ts->world->reply =
      "<|channel|>analysis<|message|>Call the tool.<|end|>"
      "<|start|>assistant<|channel|>commentary to=functions.get_weather_v2 <|constrain|>json<|message|>"
      "{\"city\":\"Paris\"}";
  Json tools = Json::array({{{"type", "function"},
                             {"function",
                              {{"name", "get-weather.v2"},
                               {"description", "Weather now"},
                               {"parameters",
                                {{"type", "object"},
                                 {"properties", {{"city", {{"type", "string"}, {"description", "City"}}}}}}}}}}});
  Json body = {{"model", "gpt-oss:20b"}, {"messages", user("weather?")}, {"tools", tools}, {"stream", false}};
  const std::string prompt = rendered_chat(body);
  EXPECT_NE(prompt.find("namespace functions {\n\n// Weather now\ntype get_weather_v2 = (_: {\n  // City\n  city: string,\n}) => any;"),
            std::string::npos)
      << prompt;
  auto r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["message"]["thinking"], "Call the tool.");
  ASSERT_EQ(j["message"]["tool_calls"].size(), 1u) << j.dump();
  EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["name"], "get-weather.v2");
  EXPECT_EQ(j["message"]["tool_calls"][0]["function"]["arguments"], (Json{{"city", "Paris"}}));

  // The OpenAI endpoint: the same call, as tool_calls with arguments as a JSON string.
  Json oai = {{"model", "gpt-oss:20b"}, {"messages", user("weather?")}, {"tools", tools}};
  r = ts->post("/v1/chat/completions", oai);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  j = Json::parse(r->body);
  EXPECT_EQ(j["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get-weather.v2");
  EXPECT_EQ(Json::parse(j["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"].get<std::string>()),
            (Json{{"city", "Paris"}}));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
}

TEST_F(HarmonyServerTest, ToolHistoryRendersAsHarmonyMessages) {
  Json msgs = Json::array({
      {{"role", "user"}, {"content", "weather?"}},
      {{"role", "assistant"}, {"content", ""}, {"thinking", "Need it."},
       {"tool_calls", Json::array({{{"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}}})}},
      {{"role", "tool"}, {"content", "sunny"}, {"tool_name", "get_weather"}},
  });
  const std::string prompt = rendered_chat({{"model", "gpt-oss:20b"}, {"messages", msgs}});
  const std::string tail =
      "<|start|>user<|message|>weather?<|end|>"
      "<|start|>assistant<|channel|>analysis<|message|>Need it.<|end|>"
      "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
      "{\"city\":\"Paris\"}<|call|>"
      "<|start|>functions.get_weather to=assistant<|message|>sunny<|end|><|start|>assistant";
  EXPECT_THAT(prompt, ::testing::EndsWith(tail));
}

TEST_F(HarmonyServerTest, MalformedToolArgumentsAreAnError) {
  ts->world->reply = "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{\"city\": ";
  Json tools = Json::array({{{"type", "function"}, {"function", {{"name", "f"}, {"parameters", {{"type", "object"}}}}}}});
  Json body = {{"model", "gpt-oss:20b"}, {"messages", user("x")}, {"tools", tools}, {"stream", false}};
  auto r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500) << r->body;
  EXPECT_EQ(Json::parse(r->body)["error"].get<std::string>().rfind("error parsing tool call: raw='{\"city\": '", 0), 0u)
      << r->body;
  body["stream"] = true;
  r = ts->post("/api/chat", body);
  ASSERT_TRUE(r);
  auto lines = ts->ndjson(r->body);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["error"].get<std::string>().rfind("error parsing tool call", 0), 0u) << r->body;
}

TEST_F(HarmonyServerTest, OpenAIReasoningEffortMapsToTheReasoningLine) {
  ts->world->reply = kReply;
  const std::pair<const char*, const char*> cases[] = {{"minimal", "Reasoning: low"},
                                                       {"low", "Reasoning: low"},
                                                       {"medium", "Reasoning: medium"},
                                                       {"high", "Reasoning: high"},
                                                       {"xhigh", "Reasoning: high"}};
  for (auto [effort, line] : cases) {
    auto r = ts->post("/v1/chat/completions",
                      {{"model", "gpt-oss:20b"}, {"messages", user("q")}, {"reasoning_effort", effort}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(ts->world->last_prompt.find(std::string(line) + "\n\n# Valid"), std::string::npos) << effort;
    Json j = Json::parse(r->body);
    EXPECT_EQ(j["choices"][0]["message"]["reasoning"], "User greets. Reply briefly.");
    EXPECT_EQ(j["choices"][0]["message"]["content"], "Hello! How can I help?");
  }
  auto r = ts->post("/v1/chat/completions", {{"model", "gpt-oss:20b"}, {"messages", user("q")}, {"reasoning_effort", "none"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(ts->world->last_prompt.find("Reasoning:"), std::string::npos);
  // `reasoning.effort` wins over `reasoning_effort`, as in Ollama.
  r = ts->post("/v1/chat/completions", {{"model", "gpt-oss:20b"}, {"messages", user("q")},
                                        {"reasoning_effort", "low"}, {"reasoning", {{"effort", "high"}}}});
  ASSERT_TRUE(r);
  EXPECT_NE(ts->world->last_prompt.find("Reasoning: high"), std::string::npos);
  r = ts->post("/v1/chat/completions", {{"model", "gpt-oss:20b"}, {"messages", user("q")}, {"reasoning_effort", "hot"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
}

TEST_F(HarmonyServerTest, AFormatStartsAtTheFinalChannel) {
  auto r = ts->post("/api/chat", {{"model", "gpt-oss:20b"}, {"messages", user("q")}, {"stream", false}, {"format", "json"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(ts->world->last_format_after, "<|channel|>final<|message|>");
}

TEST_F(HarmonyServerTest, OtherModelsKeepOllamasThinkRules) {
  // A thinking model outside the family takes a level as "think" (its template sees the level).
  auto ok = ts->post("/api/chat", {{"model", "plain"}, {"messages", user("q")}, {"think", "high"}, {"stream", false}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  // A model that cannot think (facts are read at load: a second model, loaded now): a level is a
  // request to think, refused as Ollama refuses it.
  ts->world->thinking = false;
  add_fake_model(*ts->store, "nothink", "GGUF-nothink");
  for (Json think : {Json("high"), Json("low"), Json(true)}) {
    auto r = ts->post("/api/chat", {{"model", "nothink"}, {"messages", user("q")}, {"think", think}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(Json::parse(r->body)["error"], "\"nothink\" does not support thinking");
  }
  auto r = ts->post("/api/chat", {{"model", "nothink"}, {"messages", user("q")}, {"think", false}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = ts->post("/api/chat", {{"model", "nothink"}, {"messages", user("q")}, {"think", "extreme"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Json::parse(r->body)["error"], "invalid think value");
  // Nor does the plain model get harmony's parser or control tokens.
  ts->world->reply = "plain answer";
  r = ts->post("/api/chat", {{"model", "nothink"}, {"messages", user("q")}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["message"]["content"], "plain answer");
  EXPECT_FALSE(ts->world->last_render_special);
  // A gptoss-family model whose template is not harmony's (no <|start|>/<|end|>) is not harmony.
  add_fake_model(*ts->store, "oss-custom", "GGUF-custom", {{store::kMediaTemplate, "{{ .Prompt }}"}}, "gptoss");
  r = ts->post("/api/chat", {{"model", "oss-custom"}, {"messages", user("q")}, {"stream", false}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["message"]["content"], "plain answer");
  EXPECT_FALSE(ts->world->last_render_special);
}

}  // namespace
}  // namespace hearth::testing
