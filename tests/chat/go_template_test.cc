// Go templates: expected outputs derived by hand from text/template semantics and Ollama's
// rendering rules (ollama-compat.md, "Go template engine").
#include "chat/go_template.h"

#include <gtest/gtest.h>

#include "chat/capabilities.h"
#include "chat/jinja_template.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

std::string exec(const std::string& src, const Json& data) { return GoTemplate::parse(src).execute(data); }

Message msg(std::string role, std::string content) {
  Message m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

TEST(GoTemplate, ActionsTrimAndComments) {
  Json d = {{"Name", "x"}, {"N", 3}, {"Flag", true}, {"Empty", ""}};
  EXPECT_EQ(exec("a {{ .Name }} b", d), "a x b");
  EXPECT_EQ(exec("a  {{- .Name -}}  \n b", d), "axb");
  EXPECT_EQ(exec("a {{/* note */}}b {{- /* c */ -}} c", d), "a bc");
  EXPECT_EQ(exec("{{ .N }} {{ .Flag }} {{ .Missing }} {{ 1.5 }} {{ -2 }} {{ \"q\\n\" }}{{ `raw\\n` }}", d),
            "3 true <no value> 1.5 -2 q\nraw\\n");
  EXPECT_EQ(exec("{{.Name}}{{3}}", d), "x3");  // no space needed; "-3" is a number, not a trim
}

TEST(GoTemplate, Conditionals) {
  Json d = {{"A", 1}, {"B", ""}, {"L", Json::array({1, 2})}, {"S", "user"}};
  EXPECT_EQ(exec("{{ if .B }}b{{ else if .A }}a{{ else }}none{{ end }}", d), "a");
  EXPECT_EQ(exec("{{ if and .A .B }}y{{ else }}n{{ end }}{{ if or .B .A }}y{{ end }}{{ if not .B }}!{{ end }}", d), "ny!");
  EXPECT_EQ(exec("{{ if eq .S \"system\" \"user\" }}multi{{ end }}{{ if ne .S \"user\" }}x{{ end }}", d), "multi");
  EXPECT_EQ(exec("{{ if lt 1 2 }}lt{{ end }}{{ if ge .A 1 }}ge{{ end }}{{ if gt (len .L) 1 }}len{{ end }}", d), "ltgelen");
  EXPECT_EQ(exec("{{ with .S }}[{{ . }}]{{ end }}{{ with .B }}no{{ else }}else{{ end }}", d), "[user]else");
  EXPECT_EQ(exec("{{ and .A .S }}|{{ or .B .L }}", d), "user|[1 2]");
}

TEST(GoTemplate, RangeVariablesAndFunctions) {
  Json d = {{"Items", Json::array({"a", "b", "c"})}, {"M", {{"z", 1}, {"a", 2}}}, {"None", Json::array()}};
  EXPECT_EQ(exec("{{ range .Items }}<{{ . }}>{{ end }}", d), "<a><b><c>");
  EXPECT_EQ(exec("{{ range $i, $x := .Items }}{{ $i }}={{ $x }};{{ end }}", d), "0=a;1=b;2=c;");
  EXPECT_EQ(exec("{{ range $k, $v := .M }}{{ $k }}{{ $v }}{{ end }}", d), "a2z1");  // maps iterate sorted
  EXPECT_EQ(exec("{{ range .None }}x{{ else }}empty{{ end }}", d), "empty");
  EXPECT_EQ(exec("{{ range .Items }}{{ if eq . \"b\" }}{{ continue }}{{ end }}{{ if eq . \"c\" }}{{ break }}{{ end }}{{ . }}{{ end }}", d), "a");
  EXPECT_EQ(exec("{{ $n := len .Items }}{{ $n }}{{ $n = 7 }}{{ $n }}", d), "37");
  EXPECT_EQ(exec("{{ range $i, $_ := .Items }}{{ $last := eq (len (slice $.Items $i)) 1 }}{{ if $last }}last={{ $i }}{{ end }}{{ end }}", d), "last=2");
  EXPECT_EQ(exec("{{ index .Items 1 }}{{ index .M \"z\" }}{{ slice \"hello\" 1 3 }}", d), "b1el");
  EXPECT_EQ(exec("{{ json .M }} {{ json \"<a&b>\" }}", d), "{\"z\":1,\"a\":2} \"\\u003ca\\u0026b\\u003e\"");
  EXPECT_EQ(exec("{{ printf \"%s-%d\" \"a\" 3 }}{{ print 1 2 }}{{ \"x\" | printf \"%q\" }}", d), "a-31 2\"x\"");
}

TEST(GoTemplate, Errors) {
  EXPECT_THROW(GoTemplate::parse("{{ if .A }}open"), TemplateError);
  EXPECT_THROW(GoTemplate::parse("{{ end }}"), TemplateError);
  EXPECT_THROW(GoTemplate::parse("{{ .A "), TemplateError);
  EXPECT_THROW(GoTemplate::parse("{{ \"unterminated }}"), TemplateError);
  EXPECT_THROW(exec("{{ nosuchfunc 1 }}", Json::object()), TemplateError);
  EXPECT_THROW(exec("{{ index .L 5 }}", Json{{"L", Json::array()}}), TemplateError);
  try {
    GoTemplate::parse("line1\n{{ if }}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

// A ChatML template with tools and tool calls in the style Ollama ships for Qwen 2.5.
const char* const kChatMl =
    "{{- if .Messages }}\n"
    "{{- if or .System .Tools }}<|im_start|>system\n"
    "{{- if .System }}\n{{ .System }}\n{{- end }}\n"
    "{{- if .Tools }}\n\n# Tools\n<tools>\n"
    "{{- range .Tools }}\n{\"type\": \"function\", \"function\": {{ .Function }}}\n{{- end }}\n</tools>\n"
    "{{- end }}<|im_end|>\n{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1 -}}\n"
    "{{- if eq .Role \"user\" }}<|im_start|>user\n{{ .Content }}<|im_end|>\n"
    "{{ else if eq .Role \"assistant\" }}<|im_start|>assistant\n"
    "{{ if .Content }}{{ .Content }}\n"
    "{{- else if .ToolCalls }}<tool_call>\n"
    "{{ range .ToolCalls }}{\"name\": \"{{ .Function.Name }}\", \"arguments\": {{ .Function.Arguments }}}\n"
    "{{ end }}</tool_call>\n"
    "{{- end }}{{ if not $last }}<|im_end|>\n{{ end }}\n"
    "{{- else if eq .Role \"tool\" }}<|im_start|>user\n<tool_response>\n{{ .Content }}\n</tool_response><|im_end|>\n"
    "{{ end }}\n"
    "{{- if and (ne .Role \"assistant\") $last }}<|im_start|>assistant\n{{ end }}\n"
    "{{- end }}\n"
    "{{- else }}\n"
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{ if .Prompt }}<|im_start|>user\n{{ .Prompt }}<|im_end|>\n{{ end }}<|im_start|>assistant\n"
    "{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}";

TEST(RenderGoTemplate, MessagesPath) {
  GoTemplateValues v;
  v.messages = {msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", "Hello!"), msg("user", "Weather?")};
  EXPECT_EQ(render_go_template(GoTemplate::parse(kChatMl), v),
            "<|im_start|>system\nBe brief.<|im_end|>\n"
            "<|im_start|>user\nHi<|im_end|>\n"
            "<|im_start|>assistant\nHello!<|im_end|>\n"
            "<|im_start|>user\nWeather?<|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(RenderGoTemplate, ToolsAndToolCalls) {
  GoTemplateValues v;
  v.tools = {Json::parse(R"({"type":"function","function":{"name":"get_weather","description":"Get <weather>","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}})")};
  Message call = msg("assistant", "");
  ToolCall tc;
  tc.name = "get_weather";
  tc.arguments = Json::parse(R"({"city":"Paris"})");
  call.tool_calls.push_back(tc);
  Message result = msg("tool", "22C");
  result.tool_name = "get_weather";
  v.messages = {msg("user", "Weather in Paris?"), call, result};
  EXPECT_EQ(render_go_template(GoTemplate::parse(kChatMl), v),
            "<|im_start|>system\n\n# Tools\n<tools>\n"
            "{\"type\": \"function\", \"function\": {\"name\":\"get_weather\",\"description\":\"Get \\u003cweather\\u003e\","
            "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}\n"
            "</tools><|im_end|>\n"
            "<|im_start|>user\nWeather in Paris?<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n22C\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n");
}

TEST(RenderGoTemplate, CollatesSystemsAndRepeatedRoles) {
  GoTemplateValues v;
  v.messages = {msg("system", "A"), msg("system", "B"), msg("user", "u1"), msg("user", "u2")};
  EXPECT_EQ(render_go_template(GoTemplate::parse("{{ .System }}|{{ range .Messages }}{{ .Role }}:{{ .Content }};{{ end }}"), v),
            "A\n\nB|system:A\n\nB;user:u1\n\nu2;");
}

TEST(RenderGoTemplate, LegacyPathRunsPerTurnAndCutsAfterResponse) {
  const char* legacy = "{{ if .System }}<|system|>{{ .System }}<|end|>{{ end }}<|user|>{{ .Prompt }}<|end|><|assistant|>{{ .Response }}<|end|>";
  GoTemplateValues v;
  v.messages = {msg("system", "S"), msg("user", "U1"), msg("assistant", "A1"), msg("user", "U2")};
  EXPECT_EQ(render_go_template(GoTemplate::parse(legacy), v),
            "<|system|>S<|end|><|user|>U1<|end|><|assistant|>A1<|end|>"
            "<|user|>U2<|end|><|assistant|>");
  // The same conversation through the ChatML template's legacy branch when forced.
  v.force_legacy = true;
  EXPECT_EQ(render_go_template(GoTemplate::parse(kChatMl), v),
            "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>"
            "<|im_start|>user\nU2<|im_end|>\n<|im_start|>assistant\n");
}

TEST(RenderGoTemplate, FillInTheMiddle) {
  GoTemplateValues v;
  v.prompt = "def f(";
  v.suffix = "):";
  EXPECT_EQ(render_go_template(GoTemplate::parse("<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>"), v), "<PRE> def f( <SUF>): <MID>");
}

// Thinking in the style of Ollama's DeepSeek-R1 template.
const char* const kR1 =
    "{{- if .System }}{{ .System }}{{ end }}\n"
    "{{- range $i, $_ := .Messages }}\n"
    "{{- $last := eq (len (slice $.Messages $i)) 1}}\n"
    "{{- if eq .Role \"user\" }}<｜User｜>{{ .Content }}\n"
    "{{- else if eq .Role \"assistant\" }}<｜Assistant｜>\n"
    "{{- if and $.IsThinkSet (and $last .Thinking) -}}\n<think>\n{{ .Thinking }}\n</think>\n{{- end }}"
    "{{ .Content }}{{- if not $last }}<｜end▁of▁sentence｜>{{- end }}\n"
    "{{- end }}\n"
    "{{- if and $last (ne .Role \"assistant\") }}<｜Assistant｜>\n"
    "{{- if and $.IsThinkSet (not $.Think) -}}\n<think>\n\n</think>\n\n{{ end }}\n"
    "{{- end -}}\n"
    "{{- end }}";

TEST(RenderGoTemplate, ThinkFlags) {
  GoTemplateValues v;
  v.messages = {msg("user", "2+2?")};
  GoTemplate t = GoTemplate::parse(kR1);
  EXPECT_EQ(render_go_template(t, v), "<｜User｜>2+2?<｜Assistant｜>");
  v.think = resolve_think(false, true, "deepseek-r1");
  EXPECT_EQ(render_go_template(t, v), "<｜User｜>2+2?<｜Assistant｜><think>\n\n</think>\n\n");
  auto tags = infer_thinking_tags(kR1, TemplateKind::go);
  ASSERT_TRUE(tags.has_value());
  EXPECT_EQ(tags->first, "<think>");
  EXPECT_EQ(tags->second, "</think>");
}

TEST(GoTemplateData, Shape) {
  GoTemplateValues v;
  v.messages = {msg("user", "hi")};
  v.think = resolve_think("high", true, "m");
  Json d = go_template_data(v);
  EXPECT_EQ(d["Messages"][0]["Role"], "user");
  EXPECT_EQ(d["ThinkLevel"], "high");
  EXPECT_EQ(d["IsThinkSet"], true);
  EXPECT_TRUE(GoTemplate::parse(kChatMl).uses("Messages"));
  EXPECT_TRUE(GoTemplate::parse(kChatMl).uses("Tools"));
  EXPECT_FALSE(GoTemplate::parse(kChatMl).uses("Suffix"));
}

}  // namespace
}  // namespace hearth::chat

namespace hearth::chat {
namespace {

// Ollama hands templates tool-call arguments as a Go map (template.go templateArgs), which prints
// as json.Marshal prints a map: keys sorted at every level, floats as Go's float64.
TEST(GoTemplate, ToolCallArgumentsPrintAsAGoMap) {
  GoTemplateValues v;
  Message m = text_message("assistant", "");
  ToolCall c;
  c.name = "f";
  c.arguments = nlohmann::ordered_json::parse(R"({"b":1.0,"a":{"z":2.5,"y":"<&>"},"c":[3,1e21,1e-7,0.000001]})");
  m.tool_calls.push_back(c);
  v.messages = {text_message("user", "q"), m};
  EXPECT_EQ(render_go_template(GoTemplate::parse("{{ range .Messages }}{{ range .ToolCalls }}{{ .Function.Arguments }}"
                                                 "{{ end }}{{ end }}"),
                               v),
            R"({"a":{"y":"\u003c\u0026\u003e","z":2.5},"b":1,"c":[3,1e+21,1e-7,0.000001]})");
}

// api.ToolProperty.ToTypeScriptType (Ollama's template function for gpt-oss's tool list).
TEST(GoTemplate, ToTypeScriptTypeAsOllama) {
  auto ts = [](const char* prop) {
    return GoTemplate::parse("{{ .P | toTypeScriptType }}").execute(Json{{"P", Json::parse(prop)}});
  };
  EXPECT_EQ(ts(R"({"type":"string"})"), "string");
  EXPECT_EQ(ts(R"({"type":"integer"})"), "number");
  EXPECT_EQ(ts(R"({"type":"number"})"), "number");
  EXPECT_EQ(ts(R"({"type":"boolean"})"), "boolean");
  EXPECT_EQ(ts(R"({"type":"array","items":{"type":"string"}})"), "any[]");
  EXPECT_EQ(ts(R"({"type":"object"})"), "Record<string, any>");
  EXPECT_EQ(ts(R"({"type":"null"})"), "null");
  EXPECT_EQ(ts(R"({"type":"date"})"), "any");
  EXPECT_EQ(ts(R"({"description":"no type"})"), "any");
  EXPECT_EQ(ts(R"({"type":["string","null"]})"), "string | null");
  EXPECT_EQ(ts(R"({"anyOf":[{"type":"integer"},{"type":"array"}],"type":"string"})"), "number | any[]");
  EXPECT_EQ(ts(R"("not an object")"), "any");
}

}  // namespace
}  // namespace hearth::chat
