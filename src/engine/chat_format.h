#pragma once
// Chat formats that a LoadedModel renders and parses with built-in code rather than its
// template's text alone: today harmony (gpt-oss), selected as Ollama selects it. Shared by the
// production model (runner_model.cc) and the server tests' fake model.

#include <memory>
#include <optional>
#include <string>

#include "chat/thinking.h"
#include "engine/loaded_model.h"

namespace hearth::engine {

// The request's `think` ("true", "false", a level, or unset) as templates see it: unset is on
// at "medium" for a model that can think; true is "medium"; levels pass through ("max" too).
chat::ThinkSetting think_setting(const std::optional<std::string>& think, bool can_think);

// The request's tools (RenderRequest::tools_json) as definitions; not an array: none.
std::vector<chat::ToolDefinition> request_tools(const RenderRequest& r);

// Whether the request is harmony (Ollama's shouldUseHarmony): the model's family
// (RenderRequest::model_family, else `arch`) is gptoss / gpt-oss and the model's Go TEMPLATE has
// <|start|> and <|end|>; a model without a Go TEMPLATE is judged on its GGUF chat template. As in
// Ollama, harmony then renders with the Go TEMPLATE whatever the GGUF template offers.
bool harmony_applies(const RenderRequest& r, std::string_view arch, std::string_view gguf_template);

// The harmony prompt: tools as chat::harmony_tools gives them, think "max" as "high"; rendered by
// the request's or the model's Go TEMPLATE when there is one (the registry's gpt-oss TEMPLATE or
// a Modelfile's), else by chat::render_harmony (a GGUF imported on its own).
std::string render_harmony_request(const RenderRequest& r, bool can_think);

// The harmony output parser behind the OutputParser interface; it asks for control tokens as
// text and for a format to start at the final channel.
std::unique_ptr<OutputParser> make_harmony_output_parser(const RenderRequest& r);

}  // namespace hearth::engine
