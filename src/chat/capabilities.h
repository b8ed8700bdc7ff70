#pragma once
// What a model can do, as /api/show and /api/tags report it, derived from its template and a
// few GGUF facts (so chat/ needs no GGUF), and which of its templates renders its prompts.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::chat {

enum class TemplateKind { go, jinja };

struct ModelFacts {
  std::string template_source;   // the template that renders prompts (see choose_template)
  TemplateKind template_kind = TemplateKind::go;
  bool has_pooling_type = false;  // GGUF <arch>.pooling_type: an embedding model
  bool has_vision = false;        // <arch>.vision.block_count or a projector layer
  bool has_audio = false;
};

// In Ollama's order: completion, tools, insert, vision, embedding, thinking, audio.
std::vector<std::string> model_capabilities(const ModelFacts& facts);

// Thinking tags a template teaches: Go templates, the text around {{ .Thinking }} inside the
// messages range (Ollama's InferTags); Jinja templates, <think>/</think> when both appear.
std::optional<std::pair<std::string, std::string>> infer_thinking_tags(std::string_view template_source,
                                                                       TemplateKind kind);

struct TemplateChoice {
  TemplateKind kind = TemplateKind::go;
  std::string source;
};

// Which template renders a prompt, in precedence order:
//  1. the request's `template` (/api/generate; Go syntax);
//  2. with both a Modelfile/registry Go TEMPLATE and a GGUF tokenizer.chat_template: the Go one
//     when `prefer_go` (HEARTH_GO_TEMPLATE / OLLAMA_GO_TEMPLATE, default true) unless the Jinja
//     one exposes capabilities (tools, thinking) the Go one lacks; the Jinja one otherwise;
//  3. whichever of the two exists;
//  4. Ollama's default Go template "{{ .Prompt }}".
TemplateChoice choose_template(std::string_view request_template, std::string_view go_template,
                               std::string_view gguf_chat_template, bool prefer_go = true);

}  // namespace hearth::chat
