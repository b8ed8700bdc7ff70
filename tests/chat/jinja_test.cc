// Jinja behaviour beyond the goldens: error positions, raise_exception, the sandbox and the
// limits that keep hostile templates from hanging or exhausting memory.
#include "chat/jinja_template.h"

#include <gtest/gtest.h>

#include "chat/prompt.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

std::string render(const std::string& src, const Json& ctx = Json::object(), JinjaRenderOptions opts = {}) {
  return JinjaTemplate::parse(src).render(ctx, opts);
}

std::string error_of(const std::string& src, const Json& ctx = Json::object(), JinjaRenderOptions opts = {}) {
  try {
    render(src, ctx, opts);
  } catch (const TemplateRaise& e) {
    return std::string("raise: ") + e.what();
  } catch (const TemplateError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Jinja, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("ok\n{% if x %}\n  {% endfor %}"), "chat template: line 3, column 3: unknown tag 'endfor'");
  EXPECT_NE(error_of("{{ 1 + }}").find("line 1, column 8"), std::string::npos) << error_of("{{ 1 + }}");
  EXPECT_NE(error_of("{% for %}").find("expected a name"), std::string::npos);
  EXPECT_NE(error_of("{{ 'abc }}").find("unterminated string"), std::string::npos);
  EXPECT_NE(error_of("{# never closed").find("missing end of comment"), std::string::npos);
  EXPECT_NE(error_of("{% frobnicate %}").find("unknown tag 'frobnicate'"), std::string::npos);
  try {
    JinjaTemplate::parse("{% if %}");
    FAIL();
  } catch (const TemplateError& e) {
    EXPECT_EQ(e.code(), ErrorCode::corrupt);
  }
}

TEST(Jinja, RuntimeErrorsNameTheirPosition) {
  EXPECT_EQ(error_of("a\nb {{ 1 + 'x' }}"), "chat template: line 2, column 6: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(error_of("{{ foo.bar }}"), "chat template: line 1, column 7: 'foo' is undefined");
  EXPECT_EQ(error_of("{{ d.x.y }}", Json{{"d", Json::object()}}), "chat template: line 1, column 7: 'dict object' has no attribute 'x'");
  EXPECT_NE(error_of("{{ x|nosuchfilter }}").find("no filter named 'nosuchfilter'"), std::string::npos);
}

TEST(Jinja, RaiseExceptionIsDistinct) {
  EXPECT_EQ(error_of("{% if messages|length > 1 %}{{ raise_exception('Only one message!') }}{% endif %}",
                     Json{{"messages", Json::array({1, 2})}}),
            "raise: Only one message!");
  try {
    render("{{ raise_exception('bad role ' ~ 3) }}");
    FAIL();
  } catch (const TemplateRaise& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_STREQ(e.what(), "bad role 3");
  }
}

TEST(Jinja, SandboxRefusesMutationAndPythonInternals) {
  Json ctx = {{"messages", Json::array({1})}, {"d", {{"a", 1}}}};
  EXPECT_NE(error_of("{{ messages.append(2) }}", ctx).find("unsafe"), std::string::npos);
  EXPECT_NE(error_of("{{ d.update({'b': 2}) }}", ctx).find("unsafe"), std::string::npos);
  EXPECT_EQ(render("{{ messages }}", ctx), "[1]");
  EXPECT_EQ(render("{{ ''.__class__ }}{{ d.__dict__ }}", ctx), "");
}

TEST(Jinja, LimitsStopHostileTemplates) {
  JinjaRenderOptions opts;
  opts.limits.max_steps = 100000;
  opts.limits.max_output_bytes = 1 << 20;
  auto code = [&](const std::string& src) {
    try {
      render(src, Json::object(), opts);
    } catch (const Error& e) {
      return e.code();
    }
    return ErrorCode::internal;
  };
  EXPECT_EQ(code("{% for i in range(100000000) %}x{% endfor %}"), ErrorCode::resource_exhausted);
  EXPECT_EQ(code("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}"), ErrorCode::resource_exhausted);
  EXPECT_EQ(code("{{ 'x' * 100000000000 }}"), ErrorCode::resource_exhausted);
  EXPECT_EQ(code("{% set ns = namespace(s='abcdefgh') %}{% for i in range(30) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"),
            ErrorCode::resource_exhausted);
  EXPECT_EQ(code("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), ErrorCode::resource_exhausted);
  EXPECT_EQ(code("{{ 2 ** 100 }}"), ErrorCode::invalid_argument);  // int64 overflow, not UB
  std::string deep(5000, '(');
  EXPECT_THROW(JinjaTemplate::parse("{{ " + deep + "1" + std::string(5000, ')') + " }}"), TemplateError);
  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "{% if true %}";
  EXPECT_THROW(JinjaTemplate::parse(nested), TemplateError);
}

TEST(Jinja, StashedCallerCannotOutliveItsBlock) {
  EXPECT_NE(error_of("{% set ns = namespace(c=none) %}{% macro m() %}{% set ns.c = caller %}{% endmacro %}"
                     "{% call m() %}x{% endcall %}{{ ns.c() }}").find("outside its call block"),
            std::string::npos);
}

TEST(Jinja, StrftimeNowUsesTheGivenClock) {
  JinjaRenderOptions opts;
  opts.now = 1736937000;  // 2025-01-15 10:30:00 UTC
  EXPECT_EQ(render("{{ strftime_now('%d %b %Y') }}", Json::object(), opts), "15 Jan 2025");
}

TEST(Jinja, TemplateIsReusableAndThreadCompatible) {
  JinjaTemplate t = JinjaTemplate::parse("{% set ns = namespace(n=0) %}{% for m in messages %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}");
  Json ctx = {{"messages", Json::array({1, 2, 3})}};
  EXPECT_EQ(t.render(ctx), "3");
  EXPECT_EQ(t.render(ctx), "3");  // namespace state does not leak between renders
}

TEST(JinjaChatContext, ShapesFollowTheTemplate) {
  PromptInputs in;
  Message u;
  u.role = "user";
  u.content = "hi";
  Message a;
  a.role = "assistant";
  a.thinking = "hmm";
  ToolCall c;
  c.id = "call_1";
  c.name = "f";
  c.arguments = Json::parse(R"({"b":1,"a":2})");
  a.tool_calls.push_back(c);
  Message t;
  t.role = "tool";
  t.content = "ok";
  t.tool_name = "f";
  t.tool_call_id = "call_1";
  in.messages = {u, a, t};
  in.bos_token = "<s>";
  Json obj = jinja_chat_context(in, "{{ tool_call.arguments | tojson }}");
  EXPECT_EQ(obj["messages"][1]["tool_calls"][0]["function"]["arguments"].dump(), R"({"b":1,"a":2})");
  EXPECT_EQ(obj["messages"][1]["content"], "");
  EXPECT_EQ(obj["messages"][1]["reasoning_content"], "hmm");
  EXPECT_EQ(obj["messages"][2]["name"], "f");
  EXPECT_EQ(obj["messages"][2]["tool_call_id"], "call_1");
  EXPECT_TRUE(obj["tools"].is_null());
  Json str = jinja_chat_context(in, "{% if message['content'] is none %}{{ tool['function']['arguments'] }}{% endif %}");
  EXPECT_EQ(str["messages"][1]["tool_calls"][0]["function"]["arguments"], R"({"b":1,"a":2})");
  EXPECT_TRUE(str["messages"][1]["content"].is_null());
}

}  // namespace
}  // namespace hearth::chat
