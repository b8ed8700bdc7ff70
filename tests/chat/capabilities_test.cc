#include "chat/capabilities.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace hearth::chat {
namespace {

using Caps = std::vector<std::string>;

std::string read_template(const std::string& name) {
  std::ifstream f(std::string(HEARTH_TESTDATA_DIR) + "/templates/" + name + ".jinja");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Caps caps_of(const std::string& src, TemplateKind kind, bool pooling = false, bool vision = false) {
  ModelFacts f;
  f.template_source = src;
  f.template_kind = kind;
  f.has_pooling_type = pooling;
  f.has_vision = vision;
  return model_capabilities(f);
}

TEST(Capabilities, FromRealJinjaTemplates) {
  EXPECT_EQ(caps_of(read_template("Qwen-Qwen3"), TemplateKind::jinja), (Caps{"completion", "tools", "thinking"}));
  EXPECT_EQ(caps_of(read_template("google-gemma-2-2b-it"), TemplateKind::jinja), (Caps{"completion"}));
  EXPECT_EQ(caps_of(read_template("meta-llama-Llama-3.1-8B-Instruct"), TemplateKind::jinja), (Caps{"completion", "tools"}));
  // The R1 distills' template renders tool calls, so by Ollama's rule for Jinja ("tools" or
  // "tool_call" in the text) it has tools; Ollama's Go template for deepseek-r1 does not.
  EXPECT_EQ(caps_of(read_template("deepseek-ai-DeepSeek-R1-Distill-Qwen-32B"), TemplateKind::jinja),
            (Caps{"completion", "tools", "thinking"}));
}

TEST(Capabilities, FromGoTemplatesAndFacts) {
  EXPECT_EQ(caps_of("{{ .Prompt }}", TemplateKind::go), (Caps{"completion"}));
  EXPECT_EQ(caps_of("{{ if .Suffix }}<PRE>{{ .Prompt }}<SUF>{{ .Suffix }}<MID>{{ end }}{{ range .Tools }}{{ end }}", TemplateKind::go),
            (Caps{"completion", "tools", "insert"}));
  EXPECT_EQ(caps_of("{{ range .Messages }}{{ if .Thinking }}<think>{{ .Thinking }}</think>{{ end }}{{ .Content }}{{ end }}", TemplateKind::go),
            (Caps{"completion", "thinking"}));
  EXPECT_EQ(caps_of("{{ .Prompt }}", TemplateKind::go, true), (Caps{"embedding"}));
  EXPECT_EQ(caps_of("{{ .Prompt }}", TemplateKind::go, false, true), (Caps{"completion", "vision"}));
  EXPECT_EQ(caps_of("{{ .Tools ", TemplateKind::go), (Caps{"completion"}));  // unparsable: no extras
}

TEST(ChooseTemplate, Precedence) {
  const std::string go = "{{ .Prompt }}";
  const std::string go_tools = "{{ range .Tools }}{{ end }}{{ .Prompt }}";
  const std::string jinja_plain = "{% for m in messages %}{{ m.content }}{% endfor %}";
  const std::string jinja_tools = "{% for t in tools %}{{ t }}{% endfor %}";
  EXPECT_EQ(choose_template("{{ .System }}", go, jinja_plain).source, "{{ .System }}");
  EXPECT_EQ(choose_template("", go, jinja_plain).kind, TemplateKind::go);
  EXPECT_EQ(choose_template("", go, jinja_tools).kind, TemplateKind::jinja);  // Jinja exposes more
  EXPECT_EQ(choose_template("", go_tools, jinja_tools).kind, TemplateKind::go);
  EXPECT_EQ(choose_template("", go, jinja_plain, /*prefer_go=*/false).kind, TemplateKind::jinja);
  EXPECT_EQ(choose_template("", "", jinja_plain).kind, TemplateKind::jinja);
  EXPECT_EQ(choose_template("", go, "").kind, TemplateKind::go);
  TemplateChoice none = choose_template("", "", "");
  EXPECT_EQ(none.kind, TemplateKind::go);
  EXPECT_EQ(none.source, "{{ .Prompt }}");
}

TEST(InferThinkingTags, JinjaAndGo) {
  auto t = infer_thinking_tags(read_template("Qwen-Qwen3"), TemplateKind::jinja);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, "<think>");
  EXPECT_FALSE(infer_thinking_tags(read_template("google-gemma-2-2b-it"), TemplateKind::jinja));
  t = infer_thinking_tags("{{ range .Messages }}{{ if .Thinking }}<|think|>{{ .Thinking }}<|/think|>{{ end }}{{ end }}", TemplateKind::go);
  EXPECT_FALSE(t);  // not <x>...</x> shaped
  t = infer_thinking_tags("{{ range .Messages }}{{ if .Thinking }}<reasoning>\n{{ .Thinking }}\n</reasoning>{{ end }}{{ end }}", TemplateKind::go);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->first, "<reasoning>");
  EXPECT_EQ(t->second, "</reasoning>");
}

}  // namespace
}  // namespace hearth::chat
