#pragma once
// Building the variables a Jinja chat template sees from chat::Message values, the way
// Hugging Face clients pass them (OpenAI-style messages, `tools`, special tokens).

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/jinja_template.h"
#include "chat/message.h"
#include "chat/thinking.h"

namespace hearth::chat {

struct PromptInputs {
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  ThinkSetting think;
  bool add_generation_prompt = true;
  std::string bos_token;  // the vocabulary's BOS/EOS text
  std::string eos_token;
};

// The render context: messages (role, content, reasoning_content, tool_calls with
// {id, type:"function", function:{name, arguments}}, tool_call_id and name on tool results),
// tools (null when none), documents (null), add_generation_prompt, bos_token, eos_token and
// enable_thinking. Two shapes depend on the template, since templates disagree:
//  - tool-call arguments are an object where the template serialises them itself (`tojson`,
//    `is string`, `items`), otherwise a JSON string it can concatenate (DeepSeek, Functionary);
//  - an assistant turn with tool calls and no text has content null where the template tests
//    `content is none` to find tool-call turns (DeepSeek), otherwise "".
nlohmann::ordered_json jinja_chat_context(const PromptInputs& in, std::string_view template_source);

// Renders a conversation with a Jinja chat template.
std::string render_jinja_chat(const JinjaTemplate& tmpl, std::string_view template_source, const PromptInputs& in,
                              const JinjaRenderOptions& options = {});

}  // namespace hearth::chat
