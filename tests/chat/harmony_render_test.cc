// gpt-oss prompts (chat::render_harmony) against two references:
//  - expected texts written by hand from OpenAI's harmony format (openai/harmony docs/format.md:
//    the system message "Knowledge cutoff: 2024-06\nCurrent date: ...\n\nReasoning: high\n\n# Valid
//    channels: analysis, commentary, final. Channel must be included for every message.", the
//    developer message "# Tools\n\n## functions\n\nnamespace functions {...}" and "# Instructions",
//    tool calls "<|start|>assistant<|channel|>commentary to=functions.NAME <|constrain|>json
//    <|message|>{...}<|call|>", tool results "<|start|>functions.NAME to=assistant<|message|>")
//    with Ollama's template choices (which turns keep their analysis, prefill, "Reasoning" only
//    when thinking is on);
//  - Ollama's own gpt-oss Go template (goldens/ollama-gpt-oss.gotmpl: `gptossDefaultTemplate` of
//    ollama/ollama x/create/client/create.go, the registry TEMPLATE Ollama writes for gpt-oss),
//    executed by our Go template engine with Ollama's rendering rules: both must agree byte for
//    byte on every conversation here.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "chat/go_template.h"
#include "chat/harmony.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

const char* const kDate = "2025-08-05";
const std::string kSystem =
    "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
    "Knowledge cutoff: 2024-06\nCurrent date: 2025-08-05";
const std::string kChannels =
    "\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.";

std::string ollama_template() {
  std::ifstream f(std::string(HEARTH_SOURCE_DIR) + "/tests/chat/goldens/ollama-gpt-oss.gotmpl", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Message msg(std::string role, std::string content, std::string thinking = "") {
  Message m = text_message(std::move(role), std::move(content));
  m.thinking = std::move(thinking);
  return m;
}

Message call_message(std::string thinking, std::string name, Json args) {
  Message m = msg("assistant", "", std::move(thinking));
  ToolCall c;
  c.name = std::move(name);
  c.arguments = std::move(args);
  m.tool_calls.push_back(c);
  return m;
}

Message tool_result(std::string name, std::string content) {
  Message m = msg("tool", std::move(content));
  m.tool_name = std::move(name);
  return m;
}

ThinkSetting think(std::optional<std::string> level) {
  ThinkSetting t;
  if (!level) return t;  // not set at all (the server always sets it for a thinking model)
  t.explicitly_set = true;
  if (*level == "false") return t;
  t.enabled = true;
  t.level = *level == "true" ? "medium" : *level;
  return harmony_think(t);
}

ToolDefinition weather_tool() {
  return Json::parse(R"({"type":"function","function":{"name":"get_weather",
    "description":"Gets the current weather in the provided location.",
    "parameters":{"type":"object","required":["location"],"properties":{
      "location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
      "format":{"type":"string","enum":["celsius","fahrenheit"]},
      "days":{"type":"integer","description":"How many days"},
      "tags":{"type":"array","items":{"type":"string"}},
      "opts":{"type":["object","null"]},
      "any":{"description":"anything"},
      "alt":{"anyOf":[{"type":"string"},{"type":"number"}]}}}}})");
}

ToolDefinition no_params_tool(const std::string& name, const std::string& description) {
  Json fn = {{"name", name}};
  if (!description.empty()) fn["description"] = description;
  fn["parameters"] = {{"type", "object"}, {"properties", Json::object()}};
  return Json{{"type", "function"}, {"function", fn}};
}

// What the Go engine renders from Ollama's template for the same inputs (its currentDate is
// today: the built-in renderer is given today too).
std::string via_go_template(const HarmonyPromptInputs& in) {
  GoTemplateValues v;
  v.messages = in.messages;
  v.tools = in.tools;
  v.think = in.think;
  return render_go_template(GoTemplate::parse(ollama_template()), v);
}

void expect_same_as_ollama_template(HarmonyPromptInputs in) {
  in.current_date = local_date();
  std::string go = via_go_template(in);
  if (in.current_date != local_date()) return;  // midnight passed between the two
  EXPECT_EQ(render_harmony(in), go);
}

HarmonyPromptInputs inputs(std::vector<Message> messages, std::optional<std::string> level = "true",
                           std::vector<ToolDefinition> tools = {}) {
  HarmonyPromptInputs in;
  in.messages = std::move(messages);
  in.tools = harmony_tools(tools);
  in.think = think(std::move(level));
  in.current_date = kDate;
  return in;
}

TEST(HarmonyRender, OneUserMessageWithTheDefaultReasoning) {
  auto in = inputs({msg("user", "Hello")});
  EXPECT_EQ(render_harmony(in),
            kSystem + "\n\nReasoning: medium" + kChannels + "<|end|><|start|>user<|message|>Hello<|end|><|start|>assistant");
  expect_same_as_ollama_template(in);
}

TEST(HarmonyRender, ReasoningLevelsAndThinkOff) {
  const std::string user = "<|start|>user<|message|>q<|end|><|start|>assistant";
  for (const char* level : {"low", "medium", "high"}) {
    auto in = inputs({msg("user", "q")}, level);
    EXPECT_EQ(render_harmony(in), kSystem + "\n\nReasoning: " + level + kChannels + "<|end|>" + user);
    expect_same_as_ollama_template(in);
  }
  // "max" is above harmony's scale: Ollama renders it as high.
  EXPECT_EQ(render_harmony(inputs({msg("user", "q")}, "max")),
            kSystem + "\n\nReasoning: high" + kChannels + "<|end|>" + user);
  // think:false leaves the Reasoning line out (the model still reasons; Ollama still parses it).
  auto off = inputs({msg("user", "q")}, "false");
  EXPECT_EQ(render_harmony(off), kSystem + kChannels + "<|end|>" + user);
  expect_same_as_ollama_template(off);
  // Never set (a caller that does not default it): medium, as the template's `not .IsThinkSet`.
  auto unset = inputs({msg("user", "q")}, std::nullopt);
  EXPECT_EQ(render_harmony(unset), kSystem + "\n\nReasoning: medium" + kChannels + "<|end|>" + user);
  expect_same_as_ollama_template(unset);
}

TEST(HarmonyRender, SystemTextBecomesDeveloperInstructions) {
  auto in = inputs({msg("system", "Be brief."), msg("system", "Use French."), msg("user", "Hi")});
  EXPECT_EQ(render_harmony(in), kSystem + "\n\nReasoning: medium" + kChannels +
                                    "<|end|><|start|>developer<|message|>\n\n# Instructions\n\nBe brief.\n\nUse "
                                    "French.<|end|><|start|>user<|message|>Hi<|end|><|start|>assistant");
  expect_same_as_ollama_template(in);
}

TEST(HarmonyRender, FunctionToolsAndAToolCallRoundTrip) {
  auto in = inputs({msg("system", "You are a weather bot."), msg("user", "Weather in SF?"),
                    call_message("Need to call get_weather.", "get_weather",
                                 Json{{"location", "San Francisco, CA"}, {"format", "celsius"}, {"days", 1.0}}),
                    tool_result("get_weather", "{\"temp\":20}"),
                    msg("assistant", "It is 20 C.", "Got 20 degrees."), msg("user", "Thanks")},
                   "high", {weather_tool(), no_params_tool("ping", "")});
  const std::string expected =
      kSystem + "\n\nReasoning: high" + kChannels +
      "\nCalls to these tools must go to the commentary channel: 'functions'.<|end|>"
      "<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n"
      "// Gets the current weather in the provided location.\n"
      "type get_weather = (_: {\n"
      "  alt: string | number,\n"
      "  // anything\n"
      "  any: any,\n"
      "  // How many days\n"
      "  days: number,\n"
      "  format: string,\n"
      "  // The city and state, e.g. San Francisco, CA\n"
      "  location: string,\n"
      "  opts: Record<string, any> | null,\n"
      "  tags: any[],\n"
      "}) => any;\n\n"
      "type ping = () => any;\n\n"
      "} // namespace functions\n\n# Instructions\n\nYou are a weather bot.<|end|>"
      "<|start|>user<|message|>Weather in SF?<|end|>"
      // Turns before the last user message lose their analysis; arguments print as Go's
      // json.Marshal of a map: keys sorted, 1.0 as 1.
      "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
      "{\"days\":1,\"format\":\"celsius\",\"location\":\"San Francisco, CA\"}<|call|>"
      "<|start|>functions.get_weather to=assistant<|message|>{\"temp\":20}<|end|>"
      "<|start|>assistant<|channel|>final<|message|>It is 20 C.<|end|>"
      "<|start|>user<|message|>Thanks<|end|><|start|>assistant";
  EXPECT_EQ(render_harmony(in), expected);
  expect_same_as_ollama_template(in);
}

TEST(HarmonyRender, ThinkingAfterTheLastUserMessageIsKept) {
  auto in = inputs({msg("user", "Weather?"),
                    call_message("I should call it.", "get_weather", Json{{"location", "<Paris & co>"}}),
                    tool_result("get_weather", "sunny")},
                   "true", {weather_tool()});
  const std::string rendered = render_harmony(in);
  const std::string tail =
      "<|start|>user<|message|>Weather?<|end|>"
      "<|start|>assistant<|channel|>analysis<|message|>I should call it.<|end|>"
      "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>"
      "{\"location\":\"\\u003cParis \\u0026 co\\u003e\"}<|call|>"
      "<|start|>functions.get_weather to=assistant<|message|>sunny<|end|><|start|>assistant";
  EXPECT_THAT(rendered, ::testing::EndsWith(tail));
  expect_same_as_ollama_template(in);
}

TEST(HarmonyRender, AnAssistantMessageAtTheEndIsContinued) {
  auto content = inputs({msg("user", "Say hi"), msg("assistant", "Hi", "greeting")});
  EXPECT_EQ(render_harmony(content),
            kSystem + "\n\nReasoning: medium" + kChannels +
                "<|end|><|start|>user<|message|>Say hi<|end|><|start|>assistant<|channel|>analysis<|message|>"
                "greeting<|end|><|start|>assistant<|channel|>final<|message|>Hi");
  expect_same_as_ollama_template(content);
  auto thinking = inputs({msg("user", "Say hi"), msg("assistant", "", "Let me think")});
  EXPECT_EQ(render_harmony(thinking),
            kSystem + "\n\nReasoning: medium" + kChannels +
                "<|end|><|start|>user<|message|>Say hi<|end|><|start|>assistant<|channel|>analysis<|message|>"
                "Let me think");
  expect_same_as_ollama_template(thinking);
  EXPECT_EQ(harmony_prefill(content.messages), HarmonyParser::Prefill::content);
  EXPECT_EQ(harmony_prefill(thinking.messages), HarmonyParser::Prefill::thinking);
  EXPECT_EQ(harmony_prefill({msg("user", "x")}), HarmonyParser::Prefill::none);
}

TEST(HarmonyRender, BuiltInToolsMatchOllamasTemplate) {
  std::vector<ToolDefinition> tools = {no_params_tool("browser.search", ""), no_params_tool("browser.open", ""),
                                       no_params_tool("browser.find", ""), no_params_tool("python", "")};
  auto in = inputs({msg("user", "Look it up"),
                    call_message("", "browser.search", Json{{"query", "harmony"}}),
                    tool_result("browser.search", "results")},
                   "low", tools);
  const std::string r = render_harmony(in);
  EXPECT_NE(r.find("\n\n# Tools\n\n## browser\n\n// Tool for browsing."), std::string::npos) << r;
  EXPECT_NE(r.find("type search = (_: {\nquery: string,"), std::string::npos) << r;
  EXPECT_NE(r.find("\n\n## python\n\nUse this tool to execute Python code"), std::string::npos) << r;
  EXPECT_EQ(r.find("<|start|>developer"), std::string::npos) << r;  // no function tools, no system
  EXPECT_NE(r.find("<|start|>assistant<|channel|>analysis to=browser.search <|constrain|>json<|message|>"
                   "{\"query\":\"harmony\"}<|call|><|start|>browser.search to=assistant<|message|>results<|end|>"),
            std::string::npos)
      << r;
  expect_same_as_ollama_template(in);
  // One built-in and one function tool: both sections.
  auto mixed = inputs({msg("user", "x")}, "true", {no_params_tool("python", ""), weather_tool()});
  expect_same_as_ollama_template(mixed);
  auto only_search = inputs({msg("user", "x")}, "true", {no_params_tool("browser.search", "")});
  expect_same_as_ollama_template(only_search);
}

TEST(HarmonyRender, ToolNamesBecomeIdentifiers) {
  std::vector<ToolDefinition> tools = {no_params_tool("get-weather.v2", "d"), no_params_tool("get weather v2", ""),
                                       no_params_tool("9lives", ""), no_params_tool("@#!", ""),
                                       no_params_tool("python", "")};
  HarmonyFunctionNames names(tools);
  auto renamed = names.rename(tools);
  EXPECT_EQ(renamed[0]["function"]["name"], "get_weather_v2");
  EXPECT_EQ(renamed[1]["function"]["name"], "get_weather_v2_2");
  EXPECT_EQ(renamed[2]["function"]["name"], "_9lives");
  EXPECT_EQ(renamed[3]["function"]["name"], "unnamed");
  EXPECT_EQ(renamed[4]["function"]["name"], "python");
  EXPECT_EQ(names.original("get_weather_v2_2"), "get weather v2");
  EXPECT_EQ(names.original("never_seen"), "never_seen");
  auto in = inputs({msg("user", "x")}, "true", tools);
  EXPECT_NE(render_harmony(in).find("\n\n// d\ntype get_weather_v2 = () => any;\n\ntype get_weather_v2_2 = () => any;"),
            std::string::npos)
      << render_harmony(in);
  expect_same_as_ollama_template(in);
}

// An earlier revision of the registry's gpt-oss template printed JSON Schema type names as they
// are (`index $prop.Type 0`, several joined with " | ") where today's uses toTypeScriptType: with
// types handed over as lists (harmony_tools) it renders, as Ollama's []string PropertyType does.
TEST(HarmonyRender, TheEarlierTemplateRevisionReadsTypeLists) {
  std::string tmpl = ollama_template();
  const std::string now = "{{ $prop | toTypeScriptType }}";
  const size_t at = tmpl.find(now);
  ASSERT_NE(at, std::string::npos);
  tmpl.replace(at, now.size(),
               "{{ if gt (len $prop.Type) 1 }}{{ range $i, $t := $prop.Type }}{{ if $i }} | {{ end }}{{ $t }}{{ end }}"
               "{{ else }}{{ index $prop.Type 0 }}{{ end }}");
  GoTemplateValues v;
  v.messages = {msg("user", "x")};
  v.tools = harmony_tools({Json::parse(R"({"type":"function","function":{"name":"f","parameters":{"type":"object",
    "properties":{"n":{"type":"integer"},"o":{"type":["string","null"]}}}}})")});
  v.think = think("true");
  const std::string r = render_go_template(GoTemplate::parse(tmpl), v);
  EXPECT_NE(r.find("type f = (_: {\n  n: integer,\n  o: string | null,\n}) => any;"), std::string::npos) << r;
}

TEST(HarmonyRender, SelectionFollowsOllamasRule) {
  const std::string tmpl = ollama_template();
  EXPECT_TRUE(uses_harmony("gptoss", tmpl));
  EXPECT_TRUE(uses_harmony("gpt-oss", tmpl));
  EXPECT_FALSE(uses_harmony("llama", tmpl));
  EXPECT_FALSE(uses_harmony("gptoss", "{{ .Prompt }}"));
  EXPECT_FALSE(uses_harmony("gptoss", "<|start|>{{ .Prompt }}"));  // needs <|end|> too
  EXPECT_TRUE(uses_harmony("gptoss", "<|start|>user<|message|>{{ .Prompt }}<|end|>"));
}

}  // namespace
}  // namespace hearth::chat
