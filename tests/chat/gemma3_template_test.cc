// Gemma 3's chat template (tokenizer.chat_template of google/gemma-3-{1b,4b,12b,27b}-it, the
// same text in each) renders with our Jinja engine what Python's jinja2 renders in Hugging Face's
// environment (the expected strings were printed by jinja2 3.1.6's ImmutableSandboxedEnvironment
// with trim_blocks and lstrip_blocks, as render_goldens.py sets it up): the system text folded
// into the first user turn, contents trimmed, "assistant" written as "model", and the generation
// prompt "<start_of_turn>model\n" (Ollama's gemma3 template has the same turns).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"

namespace hearth::chat {
namespace {

using Json = nlohmann::ordered_json;

const char* const kGemma3 = R"TMPL({{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
)TMPL";

std::string render(const Json& messages, bool add_generation_prompt) {
  Json ctx = Json::object();
  ctx["messages"] = messages;
  ctx["add_generation_prompt"] = add_generation_prompt;
  ctx["bos_token"] = "<bos>";
  return JinjaTemplate::parse(kGemma3).render(ctx);
}

TEST(Gemma3Template, OneUserTurnThenTheModelsTurn) {
  EXPECT_EQ(render(Json::parse(R"([{"role":"user","content":"Hello"}])"), true),
            "<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n");
}

TEST(Gemma3Template, SystemFoldedIntoTheFirstUserTurnAndContentsTrimmed) {
  const Json m = Json::parse(R"([{"role":"system","content":"Be brief."},
      {"role":"user","content":"  Hi there \n"},{"role":"assistant","content":"Hello!"},
      {"role":"user","content":"2+2?"}])");
  EXPECT_EQ(render(m, true),
            "<bos><start_of_turn>user\nBe brief.\n\nHi there<end_of_turn>\n"
            "<start_of_turn>model\nHello!<end_of_turn>\n<start_of_turn>user\n2+2?<end_of_turn>\n"
            "<start_of_turn>model\n");
}

TEST(Gemma3Template, ListContentWithAnImage) {
  const Json m = Json::parse(
      R"([{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image"}]}])");
  EXPECT_EQ(render(m, false), "<bos><start_of_turn>user\nWhat is this?<start_of_image><end_of_turn>\n");
}

TEST(Gemma3Template, RolesThatDoNotAlternateRaise) {
  const Json m = Json::parse(R"([{"role":"assistant","content":"Hi"}])");
  EXPECT_THROW(render(m, true), Error);
}

}  // namespace
}  // namespace hearth::chat
